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

  /// The `LIBSSH2_ERROR_EAGAIN` code: the call would block.
  static let eagain: Int32 = LIBSSH2_ERROR_EAGAIN

  /// Opens a `session` channel (commands) with libssh2's default window and packet sizes; nil
  /// with the session's last error set (`LIBSSH2_ERROR_EAGAIN` when it would block).
  static func openSession(_ session: OpaquePointer) -> OpaquePointer? {
    libssh2_channel_open_ex(
      session, "session", 7, clibssh2_channel_window_default(), clibssh2_channel_packet_default(), nil, 0)
  }

  /// Whether `code` means the connection itself is gone (as opposed to one operation failing).
  static func isConnectionLost(_ code: Int32) -> Bool {
    switch code {
    case LIBSSH2_ERROR_SOCKET_SEND, LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_SOCKET_DISCONNECT,
      LIBSSH2_ERROR_BAD_SOCKET, LIBSSH2_ERROR_SOCKET_NONE:
      return true
    default:
      return false
    }
  }

  /// A short name for a libssh2 error code, for messages.
  static func describe(_ code: Int32) -> String {
    switch code {
    case LIBSSH2_ERROR_SOCKET_NONE: return "socket error"
    case LIBSSH2_ERROR_BANNER_RECV: return "failed to receive the server banner"
    case LIBSSH2_ERROR_KEX_FAILURE, LIBSSH2_ERROR_KEY_EXCHANGE_FAILURE: return "key exchange failed"
    case LIBSSH2_ERROR_SOCKET_SEND: return "socket send error"
    case LIBSSH2_ERROR_SOCKET_DISCONNECT: return "the server closed the connection"
    case LIBSSH2_ERROR_PROTO: return "protocol error"
    case LIBSSH2_ERROR_FILE: return "cannot read the key file"
    case LIBSSH2_ERROR_AUTHENTICATION_FAILED: return "authentication failed"
    case LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED: return "public key not verified"
    case LIBSSH2_ERROR_CHANNEL_FAILURE: return "channel failure"
    case LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED: return "channel request denied"
    case LIBSSH2_ERROR_CHANNEL_CLOSED: return "channel closed"
    case LIBSSH2_ERROR_SFTP_PROTOCOL: return "SFTP protocol error"
    case LIBSSH2_ERROR_SOCKET_RECV: return "socket receive error"
    case LIBSSH2_ERROR_BAD_SOCKET: return "bad socket"
    case LIBSSH2_ERROR_KEYFILE_AUTH_FAILED: return "key file authentication failed"
    default: return "libssh2 error \(code)"
    }
  }
}
