/// An error of the SSH layer: what went wrong, on which host, and what to do about it.
///
/// Compare errors by ``code``; ``message`` is meant for people.
public struct SshError: Error, Sendable, CustomStringConvertible {
  /// The kind of failure.
  public enum Code: Sendable, Hashable {
    /// The host name could not be resolved.
    case dnsFailure
    /// Nothing listens on the port (TCP connection refused).
    case connectionRefused
    /// No route to the host or network.
    case unreachable
    /// The TCP connection or the SSH handshake did not complete within the connect timeout.
    case connectTimeout
    /// The SSH handshake failed (banner, key exchange, protocol).
    case handshakeFailed
    /// The server's host key differs from the one recorded in a known_hosts file.
    case hostKeyMismatch
    /// Strict host-key checking is on and the host is not in the known_hosts file.
    case hostKeyUnknown
    /// No authentication method worked.
    case authenticationFailed
    /// The server refused to open a channel.
    case channelRefused
    /// The connection was lost (the server closed it, or the network failed).
    case disconnected
    /// A command did not finish within its timeout.
    case commandTimeout
    /// An SFTP operation failed; the associated value is the SFTP status code.
    case sftp(UInt)
    /// A local file could not be read or written.
    case localFile
    /// Any other libssh2 failure.
    case other
  }

  /// The kind of failure.
  public let code: Code
  /// The host (as given by the user, with the port when not 22).
  public let host: String
  /// A sentence saying what happened and, where possible, what to do.
  public let message: String
  /// The libssh2 error code behind the failure (`LIBSSH2_ERROR_*`), when there is one.
  public let libssh2Code: Int32?
  /// The system error (`errno`) behind the failure, when there is one.
  public let systemError: Int32?

  /// Creates an error.
  public init(_ code: Code, host: String, _ message: String, libssh2Code: Int32? = nil, systemError: Int32? = nil) {
    self.code = code
    self.host = host
    self.message = message
    self.libssh2Code = libssh2Code
    self.systemError = systemError
  }

  /// Whether another connection attempt may succeed where this one failed (the host may be
  /// starting, the network may come back); false for authentication, host key and local errors.
  public var isRetryable: Bool {
    switch code {
    case .connectionRefused, .unreachable, .connectTimeout, .handshakeFailed, .disconnected, .dnsFailure: return true
    default: return false
    }
  }

  /// `host: message`.
  public var description: String { "\(host): \(message)" }
}

extension Duration {
  /// A short text for messages: `250ms`, `1.5s`, `2m`, `1h30m`.
  public var compactDescription: String {
    let (seconds, attoseconds) = components
    let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
    if milliseconds < 1000 { return "\(milliseconds)ms" }
    if milliseconds % 1000 != 0 || seconds < 60 {
      let tenths = Double(milliseconds) / 1000
      return tenths == tenths.rounded() ? "\(Int(tenths))s" : "\(tenths)s"
    }
    var text = ""
    var rest = seconds
    for (unit, size) in [("h", Int64(3600)), ("m", Int64(60)), ("s", Int64(1))] where rest >= size {
      text += "\(rest / size)\(unit)"
      rest %= size
    }
    return text
  }
}
