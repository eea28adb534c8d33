import SshClient

/// Where output lines and events come from: a node's host name and user.
public struct OutputOrigin: Sendable, Hashable {
  /// The host name as given to the node (e.g. `fit01.inria.fr`, `127.0.0.2`, `LOCALNODE`).
  public var hostname: String
  /// The remote (or local) user name.
  public var username: String

  /// Creates an origin.
  public init(hostname: String, username: String) {
    self.hostname = hostname
    self.username = username
  }

  /// The host name without its domain (`fit01.inria.fr` → `fit01`), unless it looks like an IPv4
  /// address, which is kept whole (`127.0.0.1`).
  public var shortHostname: String {
    guard let first = hostname.split(separator: ".", omittingEmptySubsequences: false).first else { return "" }
    return Int(first) != nil ? hostname : String(first)
  }
}

/// Something that happened on a node, besides output lines, that a formatter may report.
public enum FormatterEvent: Sendable, Equatable {
  /// The node starts connecting, directly or through its gateway.
  case connecting(direct: Bool)
  /// The connection is up and authenticated.
  case authenticated
  /// The connection could not be established (always reported, on stderr).
  case connectionFailed(reason: String)
  /// A connection attempt failed and another one follows (reported when verbose).
  case connectionRetrying(reason: String)
  /// The connection was closed.
  case connectionClosed
  /// A command starts on its own channel (or local process).
  case sessionStarted(command: String)
  /// A command ended.
  case sessionEnded(command: String)
  /// The SFTP subsystem was first used on this connection.
  case sftpStarted
  /// The SFTP subsystem was closed with the connection.
  case sftpStopped
  /// A message of a verbose command (`Run: -> hostname`…): always reported, like a remote stderr line.
  case message(String)
  /// The host's key was unknown and was recorded in the known_hosts `file` (always reported, as
  /// OpenSSH does). `host` as known_hosts names it (`[host]:port` when the port is not 22),
  /// `keyType` as OpenSSH names it (`ED25519`…).
  case hostKeyRecorded(host: String, keyType: String, file: String)
  /// Host key checking is off and the host's key differs from the one recorded in `file` (at
  /// `line` when found): always reported, loudly; the connection went on.
  case hostKeyChangedUnchecked(host: String, keyType: String, file: String, line: Int?)
}

/// Turns the output of commands and the events of nodes into text on some sink.
///
/// Output reaches a formatter as blocks of lines: `lines(_:stream:from:)` receives one or more
/// complete lines, each ending with `\n`, as they arrive; a block without a final newline is a
/// piece of a line: the end of a command's output that did not end with a newline, or 64 KiB of
/// an over-long line. Formatters that prefix lines print such a piece as a line of its own (the
/// next host's output never continues it); raw ones pass the bytes as they are. Lines of one
/// command come in order; lines of different commands and nodes may interleave (between blocks,
/// never inside a line). Implementations must be thread-safe.
public protocol OutputFormatter: AnyObject, Sendable {
  /// Called once by each node that uses this formatter, when the node is created: lets the
  /// formatter pad host names to a common width.
  func register(_ origin: OutputOrigin)
  /// Formats a block of lines of `stream` from `origin` (see the type's documentation).
  func lines(_ bytes: ArraySlice<UInt8>, stream: OutputChunk.Stream, from origin: OutputOrigin)
  /// Reports an event of `origin`.
  func event(_ event: FormatterEvent, from origin: OutputOrigin)
}

/// The formatter nodes use when none is given: one `HostFormatter` shared by the whole process, so
/// that host names are padded to a common width.
public let defaultFormatter: any OutputFormatter = HostFormatter()
