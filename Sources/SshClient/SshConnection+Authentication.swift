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
    if configuration.useAgent, let socket = configuration.agentPath ?? Self.environment("SSH_AUTH_SOCK"),
      !socket.isEmpty
    {
      if try await authenticateWithAgent(deadline: deadline, timeoutError: timeoutError, tried: &tried) { return }
    }
    let explicitKeys = configuration.keyPaths != nil
    for path in configuration.keyPaths ?? SshConfiguration.defaultKeyPaths {
      // Every key file is read once per process (and recognised): unencrypted Ed25519 keys sign
      // in process, other unencrypted OpenSSH keys give libssh2 their public key; libssh2 reads
      // the rest itself.
      let loaded = await KeyFileCache.load(privateKey: path)
      let kind: KeyFileKind
      switch loaded.kind {
      case .failure(let problem):
        // A default key file that does not exist is simply not there.
        if explicitKeys || problem != .noSuchFile { tried.append("key \(path): \(problem)") }
        continue
      case .success(let found):
        kind = found
      }
      let passphrase =
        configuration.passphrase?(path)
        ?? Self.environment("APSSH_KEY_PASSPHRASE")
      if let problem = KeyFile.problem(of: kind, path: path, passphraseAvailable: passphrase != nil) {
        tried.append("key \(path): \(problem)")
        continue
      }
      var systemError: Int32 = 0
      let rc: Int32 = try await drive(deadline: deadline, timeout: timeoutError) { () throws -> Int32? in
        let rc: Int32
        if let signer = loaded.signer {
          rc = signer.publicKeyBlob.withUnsafeBufferPointer { blob in
            libssh2_userauth_publickey(
              session, user, blob.baseAddress, blob.count, Ed25519Signer.callback, signer.abstract)
          }
        } else {
          errno = 0
          rc = libssh2_userauth_publickey_fromfile_ex(
            session, user, userLength, loaded.publicKeyPath, path, passphrase)
          // libssh2 reports a key it could not open as a file error: keep the system's reason.
          if rc == LIBSSH2_ERROR_FILE { systemError = errno }
        }
        if rc == LibSSH2.eagain { return nil }
        if LibSSH2.isConnectionLost(rc) { throw self.error(rc, "authenticating") }
        return rc
      }
      if rc == 0 { return }
      switch rc {
      case LIBSSH2_ERROR_FILE:
        tried.append(
          "key \(path): "
            + Self.fileFailure(kind: kind, systemError: systemError, libssh2Message: lastErrorMessage(rc)))
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

  /// Why libssh2 could not use a key file it was given (`LIBSSH2_ERROR_FILE`): the system's error
  /// when opening it failed (too many open files…), a wrong passphrase for an encrypted key, else
  /// libssh2's own message. Never "encrypted" for a key that is not.
  static func fileFailure(kind: KeyFileKind, systemError: Int32, libssh2Message: String) -> String {
    let fileErrors: Set<Int32> = [EMFILE, ENFILE, ENOMEM, EACCES, EPERM, ENOENT, ENOTDIR, EISDIR, ELOOP, EIO]
    if fileErrors.contains(systemError) { return KeyFile.problem(errno: systemError).description }
    if kind.isEncrypted { return "cannot be decrypted: wrong passphrase?" }
    return "libssh2 cannot load it: \(libssh2Message)"
  }

  /// The environment variable `name` (`getenv`: `ProcessInfo.environment` copies the whole
  /// environment into a dictionary, 3% of the client's CPU in a fan-out when called per connection).
  private static func environment(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    return String(cString: value)
  }

  /// The longest wait for each answer of the agent (and at most the connection's deadline).
  static let agentPatience = Duration.seconds(5)

  /// Tries every identity of the ssh-agent; true when one was accepted. The agent is talked to
  /// without blocking (``AgentConnection``): a stuck agent costs at most ``agentPatience`` per
  /// answer, and cancellation cuts it at once.
  private func authenticateWithAgent(
    deadline: ContinuousClock.Instant, timeoutError: SshError, tried: inout [String]
  ) async throws -> Bool {
    guard let session, let path = configuration.agentPath ?? Self.environment("SSH_AUTH_SOCK"), !path.isEmpty else {
      return false
    }
    let agent: AgentConnection
    do {
      agent = try AgentConnection.open(path: path)
    } catch {
      tried.append("ssh-agent (\(error))")
      return false
    }
    defer { agent.close() }
    let identities: [AgentConnection.Identity]
    do {
      identities = try await agent.identities(deadline: min(deadline, .now + Self.agentPatience))
    } catch let error as AgentConnection.Failure {
      tried.append("ssh-agent (\(error))")
      return false
    }
    let user = configuration.username
    for identity in identities {
      let signer = AgentSigner(agent: agent, identity: identity, deadline: min(deadline, .now + Self.agentPatience))
      agentSigner = signer
      defer { agentSigner = nil }
      let result: Int32 = try await drive(deadline: deadline, timeout: timeoutError) { () throws -> Int32? in
        let rc = libssh2_userauth_publickey(
          session, user, signer.blob.baseAddress, signer.blob.count, AgentSigner.callback, signer.abstract)
        if rc == LibSSH2.eagain { return nil }
        if LibSSH2.isConnectionLost(rc) { throw self.error(rc, "authenticating with the agent") }
        return rc
      }
      if result == 0 { return true }
      if signer.gaveUp {
        tried.append("ssh-agent (no signature from it within \(Self.agentPatience.compactDescription))")
        return false
      }
    }
    tried.append("ssh-agent (\(identities.count) identit\(identities.count == 1 ? "y" : "ies") refused)")
    return false
  }
}
