import Foundation

/// Reads the kernel's IPv4 TCP socket table (`/proc/net/tcp`), e.g. to count the connections
/// established to the testbed port from the testbed (server) side, or to see which addresses
/// listen on a port.
public enum ConnectionCounter {
  /// One socket of `/proc/net/tcp`.
  public struct Socket: Sendable, Hashable {
    /// Local IPv4 address, dotted.
    public var localAddress: String
    /// Local port.
    public var localPort: UInt16
    /// Remote IPv4 address, dotted.
    public var remoteAddress: String
    /// Remote port.
    public var remotePort: UInt16
    /// Kernel TCP state (1 = ESTABLISHED, 10 = LISTEN, …).
    public var state: Int
    /// The socket's inode (matches `socket:[inode]` links in `/proc/PID/fd`).
    public var inode: UInt64
  }

  /// The TCP state number of an established connection.
  public static let established = 1
  /// The TCP state number of a listening socket.
  public static let listen = 10

  /// All IPv4 TCP sockets of this network namespace (empty where /proc is missing).
  public static func sockets() -> [Socket] {
    guard let text = FileIO.read("/proc/net/tcp") else { return [] }
    var result: [Socket] = []
    for line in text.split(separator: "\n").dropFirst() {
      let fields = line.split(separator: " ", omittingEmptySubsequences: true)
      guard fields.count >= 10,
        let local = parseEndpoint(fields[1]), let remote = parseEndpoint(fields[2]),
        let state = Int(fields[3], radix: 16), let inode = UInt64(fields[9])
      else { continue }
      result.append(
        Socket(
          localAddress: local.address, localPort: local.port, remoteAddress: remote.address,
          remotePort: remote.port, state: state, inode: inode))
    }
    return result
  }

  /// Number of ESTABLISHED sockets whose local port is `port`: with a server port, the
  /// connections accepted by the servers on that port.
  public static func establishedConnections(localPort port: UInt16) -> Int {
    sockets().count { $0.state == established && $0.localPort == port }
  }

  /// Listening sockets on `port`, by local address.
  static func listeners(port: UInt16) -> [String: UInt64] {
    var result: [String: UInt64] = [:]
    for socket in sockets() where socket.state == listen && socket.localPort == port {
      result[socket.localAddress] = socket.inode
    }
    return result
  }

  /// Parses `0200007F:1F90` (address as a little-endian hex word, port in hex).
  private static func parseEndpoint(_ field: Substring) -> (address: String, port: UInt16)? {
    let parts = field.split(separator: ":")
    guard parts.count == 2, parts[0].count == 8, let word = UInt32(parts[0], radix: 16),
      let port = UInt16(parts[1], radix: 16)
    else { return nil }
    let address = "\(word & 0xff).\((word >> 8) & 0xff).\((word >> 16) & 0xff).\(word >> 24)"
    return (address, port)
  }
}
