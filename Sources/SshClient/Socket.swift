import Dispatch
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Non-blocking TCP sockets, connected through the ``Reactor``.
enum Socket {
  /// A serial queue for name resolution: `getaddrinfo` blocks, so it never runs on the
  /// cooperative pool. Numeric addresses (the common case on testbeds) skip it.
  private static let resolverQueue = DispatchQueue(label: "apssh.resolver", attributes: .concurrent)

  /// Resolves `host` to socket addresses (numeric hosts without a DNS query).
  static func resolve(host: String, port: Int, label: String) async throws -> [sockaddr_storage] {
    if let numeric = try? lookup(host: host, port: port, numericOnly: true), !numeric.isEmpty {
      return numeric
    }
    return try await withCheckedThrowingContinuation { continuation in
      resolverQueue.async {
        do {
          continuation.resume(returning: try lookup(host: host, port: port, numericOnly: false))
        } catch {
          continuation.resume(throwing: SshError(.dnsFailure, host: label, "\(error); check the host name"))
        }
      }
    }
  }

  private struct LookupError: Error, CustomStringConvertible {
    let description: String
  }

  private static func lookup(host: String, port: Int, numericOnly: Bool) throws -> [sockaddr_storage] {
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    hints.ai_flags = numericOnly ? AI_NUMERICHOST | AI_NUMERICSERV : AI_NUMERICSERV
    var list: UnsafeMutablePointer<addrinfo>?
    let rc = getaddrinfo(host, String(port), &hints, &list)
    guard rc == 0, let first = list else {
      throw LookupError(description: "cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
    }
    defer { freeaddrinfo(list) }
    var addresses: [sockaddr_storage] = []
    var cursor: UnsafeMutablePointer<addrinfo>? = first
    while let info = cursor {
      var storage = sockaddr_storage()
      memcpy(&storage, info.pointee.ai_addr, Int(info.pointee.ai_addrlen))
      addresses.append(storage)
      cursor = info.pointee.ai_next
    }
    return addresses
  }

  /// Opens a non-blocking TCP connection to `host:port` before `deadline`; the descriptor is
  /// registered with the reactor. Errors name `label` (the host as the user wrote it).
  static func connect(host: String, port: Int, deadline: ContinuousClock.Instant, label: String) async throws -> Int32 {
    let addresses = try await resolve(host: host, port: port, label: label)
    var lastError = SshError(.unreachable, host: label, "no address for \(host)")
    for var address in addresses {
      let family = Int32(address.ss_family)
      let fd = socket(
        family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
      guard fd >= 0 else {
        throw SshError(.other, host: label, "cannot create a socket: \(errnoString())", systemError: errno)
      }
      var one: Int32 = 1
      _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
      let length = socklen_t(family == AF_INET6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
      let rc = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
      }
      let code = rc == 0 ? 0 : errno
      do {
        try Reactor.shared.register(fd: fd)
      } catch {
        close(fd)
        throw SshError(.other, host: label, "\(error)", systemError: (error as? Reactor.WatchFailed)?.errno)
      }
      do {
        if code == EINPROGRESS {
          let wakeup = try await Reactor.shared.wait(fd: fd, for: .writable, generation: 0, deadline: deadline)
          if case .timedOut = wakeup {
            throw SshError(.connectTimeout, host: label, "connection timed out; is the host up and the port right?")
          }
          var error: Int32 = 0
          var size = socklen_t(MemoryLayout<Int32>.size)
          _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size)
          if error != 0 { throw connectError(error, host: host, port: port, label: label) }
        } else if code != 0 {
          throw connectError(code, host: host, port: port, label: label)
        }
        return fd
      } catch let error as SshError {
        Reactor.shared.deregister(fd: fd)
        close(fd)
        if error.code == .connectTimeout { throw error }
        lastError = error
      } catch {
        Reactor.shared.deregister(fd: fd)
        close(fd)
        throw error
      }
    }
    throw lastError
  }

  private static func connectError(_ code: Int32, host: String, port: Int, label: String) -> SshError {
    switch code {
    case ECONNREFUSED:
      return SshError(
        .connectionRefused, host: label, "connection refused on port \(port); is sshd running there?", systemError: code
      )
    case ENETUNREACH, EHOSTUNREACH:
      return SshError(
        .unreachable, host: label, "host unreachable (\(String(cString: strerror(code))))", systemError: code)
    case ETIMEDOUT:
      return SshError(.connectTimeout, host: label, "connection timed out", systemError: code)
    default:
      return SshError(
        .unreachable, host: label, "cannot connect to \(host):\(port): \(String(cString: strerror(code)))",
        systemError: code)
    }
  }

  static func errnoString() -> String { String(cString: strerror(errno)) }
}
