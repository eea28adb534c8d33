import CLibSSH2

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Process-wide libssh2 set-up: `libssh2_init` exactly once, and the file-descriptor limit raised.
enum LibSSH2 {
  /// Swift initialises a global `let` exactly once, thread-safely: the one `libssh2_init` call.
  private static let initResult: Int32 = {
    raiseFileDescriptorLimit()
    return libssh2_init(0)
  }()

  /// Makes sure libssh2 is initialised; call before creating any session.
  static func ensureInitialized() {
    precondition(initResult == 0, "libssh2_init failed with \(initResult)")
  }

  /// Raises RLIMIT_NOFILE to its hard limit: one controller must hold 1,000+ connections.
  static func raiseFileDescriptorLimit() {
    var limit = rlimit()
    #if canImport(Glibc)
      let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
      let resource = RLIMIT_NOFILE
    #endif
    guard getrlimit(resource, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(resource, &limit)
  }

  /// The `LIBSSH2_ERROR_EAGAIN` code.
  static let eagain: Int32 = clibssh2_error_eagain()

  /// A short name for a libssh2 error code, for messages.
  static func describe(_ code: Int32) -> String {
    switch code {
    case -1: return "socket error"
    case -2: return "failed to receive the server banner"
    case -5, -8: return "key exchange failed"
    case -13: return "the server closed the connection"
    case -14: return "protocol error"
    case -16: return "cannot read the key file"
    case -18: return "authentication failed"
    case -19: return "public key not verified"
    case -21: return "channel failure"
    case -22: return "channel request denied"
    case -26: return "channel closed"
    case -31: return "SFTP protocol error"
    case -43: return "socket receive error"
    case -7: return "socket send error"
    case -48: return "key file authentication failed"
    default: return "libssh2 error \(code)"
    }
  }
}
