import SshClient
import Synchronization

/// A remote host reached over SSH, possibly through a gateway (another `SshNode`).
///
/// Each node object owns one `SshConnection`, opened lazily by the first command that needs it and
/// shared by every job and command on the node (concurrent commands run as channels of that one
/// connection; SFTP is opened once per connection). Two node objects for the same host make two
/// connections.
///
/// **Closing.** A node counts the jobs that use it (an `SshJob` registers with its node when
/// created, and again when it runs after having been shut down). `SshJob.shutdown()`, which a
/// scheduler calls at the end of its run, releases the node; the connection is closed when the last
/// job is released, unless one of them asked `keepConnection`. A node behind a gateway counts as a
/// user of the gateway while it has jobs, so a gateway closes after every node behind it. A node
/// used again after closing reconnects. `closeConnections(in:)` or `close()` close explicitly.
public final class SshNode: CommandNode {
  /// The host name or address, as given (resolved on the gateway's side when there is one).
  public let hostname: String
  /// The remote user.
  public let username: String
  /// The SSH port.
  public let port: Int
  /// The node through which this one is reached, if any.
  public let gateway: SshNode?
  /// Where the output of this node's commands goes.
  public let formatter: any OutputFormatter
  /// The node's one connection.
  public let connection: SshConnection

  private struct Lifecycle {
    var users = 0
    var keep = false
    var holdsGateway = false
    var closing: Task<Void, Never>?
    var connecting: Task<Void, any Error>?
    var sftpAnnounced = false
  }
  private let lifecycle = Mutex(Lifecycle())

  /// Creates a node (no connection is made until a command needs it).
  /// - Parameters:
  ///   - hostname: host name or address.
  ///   - username: remote user; the local user by default.
  ///   - port: SSH port.
  ///   - keys: private key files to try; by default `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`.
  ///   - gateway: a node to tunnel through (jump host); chains of any depth work.
  ///   - formatter: where output goes; the process-wide `defaultFormatter` (a `HostFormatter`) by default.
  ///   - hostKeyPolicy: how host keys are checked (accept-new by default).
  ///   - connectTimeout: limit for TCP connect, handshake and authentication.
  ///   - knownHostsPath: the known_hosts file; `~/.ssh/known_hosts` by default.
  ///   - useAgent: whether to try the ssh-agent first.
  public convenience init(
    hostname: String, username: String? = nil, port: Int = 22, keys: [String]? = nil, gateway: SshNode? = nil,
    formatter: (any OutputFormatter)? = nil, hostKeyPolicy: HostKeyPolicy = .acceptNew,
    connectTimeout: Duration = .seconds(30), knownHostsPath: String? = nil, useAgent: Bool = true
  ) {
    let configuration = SshConfiguration(
      host: hostname, port: port, username: username, keyPaths: keys, useAgent: useAgent,
      hostKeyPolicy: hostKeyPolicy, knownHostsPath: knownHostsPath, connectTimeout: connectTimeout)
    self.init(configuration: configuration, gateway: gateway, formatter: formatter)
  }

  /// Creates a node from a full connection configuration (passphrase callback, keepalives,
  /// `maxSessions`…).
  public init(configuration: SshConfiguration, gateway: SshNode? = nil, formatter: (any OutputFormatter)? = nil) {
    hostname = configuration.host
    username = configuration.username
    port = configuration.port
    self.gateway = gateway
    self.formatter = formatter ?? defaultFormatter
    connection = SshConnection(configuration: configuration, gateway: gateway?.connection)
    self.formatter.register(OutputOrigin(hostname: hostname, username: username))
  }

  /// 1 for a direct node, 1 + the gateway's distance otherwise.
  public var distance: Int { 1 + (gateway?.distance ?? 0) }

  /// `user@host`, preceded by `gwuser@gwhost->` when there is a gateway.
  public var description: String {
    (gateway.map { $0.userHost + "->" } ?? "") + userHost
  }

  /// How many jobs (and nodes behind this one) currently count as users of the connection.
  public var userCount: Int { lifecycle.withLock { $0.users } }

  // MARK: - Running

  /// Runs `commandLine` on a new channel of the node's connection (connecting first if needed).
  public func execute(_ commandLine: String, output: @escaping @Sendable (OutputChunk.Stream, [UInt8]) async -> Void) async throws
    -> ExitStatus
  {
    try await ensureConnected()
    return try await connection.execute(commandLine) { chunk in await output(chunk.stream, chunk.bytes) }
  }

  /// Connects (the gateways first) if not connected, reporting connection events to the formatter.
  ///
  /// Every connection attempt of this node goes through one task at a time, so that the
  /// formatter hears of each attempt (connecting, authenticated or failed) once, however many
  /// jobs start on the node at the same moment.
  public func ensureConnected() async throws {
    await waitForPendingClose()
    if let gateway { try await gateway.ensureConnected() }
    // Connected already (the common case, every command after the first): no attempt task.
    if await connection.isConnected { return }
    let attempt = lifecycle.withLock { state in
      if let attempt = state.connecting { return attempt }
      let attempt = Task { try await self.connectOnce() }
      state.connecting = attempt
      return attempt
    }
    try await attempt.valueUnlessCancelled()
  }

  /// One connection attempt (the only caller of `connection.connect()` at any time).
  private func connectOnce() async throws {
    defer { lifecycle.withLock { $0.connecting = nil } }
    if await connection.isConnected { return }
    formatter.event(.connecting(direct: gateway == nil), from: origin)
    do {
      try await connection.connect()
    } catch {
      let reason = (error as? SshError)?.message ?? String(describing: error)
      formatter.event(.connectionFailed(reason: reason), from: origin)
      throw error
    }
    // A new connection has no SFTP session yet, whatever happened to the previous one.
    lifecycle.withLock { $0.sftpAnnounced = false }
    formatter.event(.authenticated, from: origin)
  }

  /// The connection, connected, for SFTP operations.
  func connectedForSftp() async throws -> SshConnection {
    try await ensureConnected()
    let announce = lifecycle.withLock { state in
      defer { state.sftpAnnounced = true }
      return !state.sftpAnnounced
    }
    if announce { formatter.event(.sftpStarted, from: origin) }
    return connection
  }

  // MARK: - Lifecycle

  /// Counts one more user (a job, or a node behind this one).
  func retain(keepConnection: Bool = false) {
    let retainGateway = lifecycle.withLock { state in
      state.users += 1
      if keepConnection { state.keep = true }
      if state.holdsGateway || gateway == nil { return false }
      state.holdsGateway = true
      return true
    }
    if retainGateway { gateway?.retain() }
  }

  /// Counts one user less; the last one closes the connection (unless kept), then releases the
  /// gateway.
  func release() async {
    let closing: Task<Void, Never>? = lifecycle.withLock { state in
      state.users = max(0, state.users - 1)
      guard state.users == 0, !state.keep else { return nil }
      let releaseGateway = state.holdsGateway
      state.holdsGateway = false
      let previous = state.closing
      let task = Task {
        await previous?.value
        await self.disconnect()
        if releaseGateway { await self.gateway?.release() }
      }
      state.closing = task
      return task
    }
    await closing?.value
  }

  /// Closes the connection now, whoever uses it (a later command reconnects), and forgets any
  /// `keepConnection` request. Gateways are not closed, but released when no job uses this node.
  public func close() async {
    await waitForPendingClose()
    let releaseGateway = lifecycle.withLock { state in
      state.keep = false
      guard state.users == 0, state.holdsGateway else { return false }
      state.holdsGateway = false
      return true
    }
    await disconnect()
    if releaseGateway { await gateway?.release() }
  }

  /// Waits for a close in progress on this node and its gateways.
  func waitForPendingClose() async {
    let closing = lifecycle.withLock { $0.closing }
    await closing?.value
    await gateway?.waitForPendingClose()
  }

  private func disconnect() async {
    let wasConnected = await connection.isConnected
    let sftp = lifecycle.withLock { state in
      defer { state.sftpAnnounced = false }
      return state.sftpAnnounced
    }
    await connection.close()
    if wasConnected {
      if sftp { formatter.event(.sftpStopped, from: origin) }
      formatter.event(.connectionClosed, from: origin)
    }
  }
}
