import CLibSSH2
import Foundation

extension SshConnection {
  /// Authenticates with the ssh-agent first, then with key files; on failure the error lists
  /// every method and key tried.
  func authenticate(deadline: ContinuousClock.Instant, timeoutError: SshError) async throws {
    guard let session else { return }
    let user = configuration.username
    let userLength = UInt32(user.utf8.count)
    let methods: String = try await drive(deadline: deadline, timeout: timeoutError) { () throws -> String? in
      if let list = libssh2_userauth_list(session, user, userLength) { return String(cString: list) }
      if libssh2_userauth_authenticated(session) != 0 { return "" }
      let rc = self.lastErrno()
      if rc == LibSSH2.eagain { return nil }
      throw self.error(rc, "asking for authentication methods")
    }
    if libssh2_userauth_authenticated(session) != 0 { return }
    var tried: [String] = []
    guard methods.split(separator: ",").contains("publickey") else {
      throw SshError(
        .authenticationFailed, host: label,
        "authentication failed: the server offers only \(methods), and apssh authenticates with keys")
    }
    if configuration.useAgent, let socket = Self.environment("SSH_AUTH_SOCK"), !socket.isEmpty {
      if try await authenticateWithAgent(deadline: deadline, timeoutError: timeoutError, tried: &tried) { return }
    }
    let explicitKeys = configuration.keyPaths != nil
    for path in configuration.keyPaths ?? SshConfiguration.defaultKeyPaths {
      guard FileManager.default.isReadableFile(atPath: path) else {
        if explicitKeys { tried.append("key \(path) (missing or unreadable)") }
        continue
      }
      let passphrase = configuration.passphrase?(path)
        ?? Self.environment("APSSH_KEY_PASSPHRASE")
      // Unencrypted OpenSSH keys are read once per process: Ed25519 ones sign in process, the
      // others give libssh2 their public key. Anything else, libssh2 reads itself.
      let loaded = await KeyFileCache.load(privateKey: path)
      let rc: Int32 = try await drive(deadline: deadline, timeout: timeoutError) { () throws -> Int32? in
        let rc: Int32
        if let signer = loaded.signer {
          rc = signer.publicKeyBlob.withUnsafeBufferPointer { blob in
            libssh2_userauth_publickey(
              session, user, blob.baseAddress, blob.count, Ed25519Signer.callback, signer.abstract)
          }
        } else {
          rc = libssh2_userauth_publickey_fromfile_ex(
            session, user, userLength, loaded.publicKeyPath, path, passphrase)
        }
        if rc == LibSSH2.eagain { return nil }
        if LibSSH2.isConnectionLost(rc) { throw self.error(rc, "authenticating") }
        return rc
      }
      if rc == 0 { return }
      switch rc {
      case LIBSSH2_ERROR_FILE:
        tried.append(
          "key \(path) (cannot be read: "
            + (passphrase == nil ? "encrypted? set APSSH_KEY_PASSPHRASE)" : "wrong passphrase or unsupported format)"))
      default:
        tried.append("key \(path) (refused by the server)")
      }
    }
    if tried.isEmpty {
      tried.append("no key: none of \(SshConfiguration.defaultKeyPaths.joined(separator: ", ")) exists")
    }
    throw SshError(
      .authenticationFailed, host: label,
      "authentication failed as \(user); tried: \(tried.joined(separator: "; ")). "
        + "Give the right key with -k, or check the remote authorized_keys")
  }

  /// The environment variable `name` (`getenv`: `ProcessInfo.environment` copies the whole
  /// environment into a dictionary, 3% of the client's CPU in a fan-out when called per connection).
  private static func environment(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    return String(cString: value)
  }

  /// Tries every identity of the ssh-agent; true when one was accepted.
  private func authenticateWithAgent(
    deadline: ContinuousClock.Instant, timeoutError: SshError, tried: inout [String]
  ) async throws -> Bool {
    guard let session, let agent = libssh2_agent_init(session) else { return false }
    defer {
      libssh2_agent_disconnect(agent)
      libssh2_agent_free(agent)
    }
    guard libssh2_agent_connect(agent) == 0 else {
      tried.append("ssh-agent (cannot connect to SSH_AUTH_SOCK)")
      return false
    }
    let listed: Int32 = try await drive(deadline: deadline, timeout: timeoutError) { () -> Int32? in
      let rc = libssh2_agent_list_identities(agent)
      return rc == LibSSH2.eagain ? nil : rc
    }
    guard listed == 0 else {
      tried.append("ssh-agent (cannot list identities)")
      return false
    }
    let user = configuration.username
    var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
    var count = 0
    while true {
      var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
      let rc = libssh2_agent_get_identity(agent, &identity, previous)
      guard rc == 0, let identity else { break }
      count += 1
      let result: Int32 = try await drive(deadline: deadline, timeout: timeoutError) { () throws -> Int32? in
        let rc = libssh2_agent_userauth(agent, user, identity)
        if rc == LibSSH2.eagain { return nil }
        if LibSSH2.isConnectionLost(rc) { throw self.error(rc, "authenticating with the agent") }
        return rc
      }
      if result == 0 { return true }
      previous = identity
    }
    tried.append("ssh-agent (\(count) identit\(count == 1 ? "y" : "ies") refused)")
    return false
  }
}
