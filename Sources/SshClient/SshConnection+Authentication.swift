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
      guard FileManager.default.isReadableFile(atPath: path) else {
        if explicitKeys { tried.append("key \(path) (missing or unreadable)") }
        continue
      }
      let passphrase =
        configuration.passphrase?(path)
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
