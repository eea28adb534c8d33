#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Thin wrappers around IPv4 TCP sockets on loopback addresses (close-on-exec, so no child
/// process inherits them).
enum LoopbackSocket {
  /// A new IPv4 TCP socket, close-on-exec; -1 on failure (errno set).
  private static func newSocket() -> Int32 {
    #if canImport(Glibc)
      socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    #else
      socket(AF_INET, SOCK_STREAM, 0)
    #endif
  }

  /// A TCP socket bound to `address:port` (port 0: any free port). Caller closes it.
  static func bound(address: String, port: UInt16, reuseAddress: Bool = true) throws -> Int32 {
    let fd = newSocket()
    guard fd >= 0 else { throw TestbedError.system(call: "socket", errno: errno) }
    if reuseAddress {
      var one: Int32 = 1
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    }
    var storage = try socketAddress(address, port)
    let result = withUnsafePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard result == 0 else {
      let code = errno
      close(fd)
      throw TestbedError.system(call: "bind \(address):\(port)", errno: code)
    }
    return fd
  }

  /// The local port a socket is bound to.
  static func localPort(_ fd: Int32) -> UInt16 {
    var storage = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return UInt16(bigEndian: storage.sin_port)
  }

  /// Whether `port` can be bound (as sshd does, with SO_REUSEADDR) on every address.
  static func isFree(port: UInt16, addresses: [String]) -> Bool {
    for address in addresses {
      guard let fd = try? bound(address: address, port: port) else { return false }
      close(fd)
    }
    return true
  }

  /// Connects with a timeout; returns the connected descriptor (blocking mode), or the errno.
  static func connect(address: String, port: UInt16, timeout: Duration) -> Result<Int32, Errno> {
    let fd = newSocket()
    guard fd >= 0 else { return .failure(Errno(errno)) }
    guard var storage = try? socketAddress(address, port) else {
      close(fd)
      return .failure(Errno(EINVAL))
    }
    let flags = fcntl(fd, F_GETFL)
    _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    let result = withUnsafePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    if result != 0 && errno != EINPROGRESS {
      let code = errno
      close(fd)
      return .failure(Errno(code))
    }
    if result != 0 {
      var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
      let milliseconds =
        Int32(timeout.components.seconds * 1000)
        + Int32(timeout.components.attoseconds / 1_000_000_000_000_000)
      guard poll(&entry, 1, milliseconds) == 1 else {
        close(fd)
        return .failure(Errno(ETIMEDOUT))
      }
      var error: Int32 = 0
      var length = socklen_t(MemoryLayout<Int32>.size)
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
      if error != 0 {
        close(fd)
        return .failure(Errno(error))
      }
    }
    _ = fcntl(fd, F_SETFL, flags)
    return .success(fd)
  }

  /// An errno value as an Error.
  struct Errno: Error, Equatable {
    var code: Int32
    init(_ code: Int32) { self.code = code }
  }

  private static func socketAddress(_ address: String, _ port: UInt16) throws -> sockaddr_in {
    var storage = sockaddr_in()
    storage.sin_family = sa_family_t(AF_INET)
    storage.sin_port = port.bigEndian
    guard inet_pton(AF_INET, address, &storage.sin_addr) == 1 else {
      throw TestbedError.system(call: "inet_pton \(address)", errno: EINVAL)
    }
    return storage
  }
}
