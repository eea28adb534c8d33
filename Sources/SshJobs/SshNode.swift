import SshClient
import Synchronization

/// A remote host reached over SSH, possibly through a gateway (another `SshNode`).
///
/// Each node object owns one `SshConnection`, opened lazily by the first command that needs it and
/// shared by every job and command on the node (concurrent commands run as channels of that one
/// connection; SFTP is opened once per connection). Two node objects for the same host make two
/// connections. The connection's events (attempts, failures, closing) go to the node's formatter.
///
/// **Closing.** A node counts the jobs that use it (an `SshJob` registers with its node when its
/// scheduler's run starts, and lets it go as soon as its commands are over); the connection is
/// closed when the last one lets go, unless one of them asked `keepConnection`. A node behind a
/// gateway counts as a user of the gateway while it has jobs, so a gateway closes after every node
/// behind it. A node used again after closing reconnects. `closeConnections(in:)` or `close()`
/// close explicitly.
public final class SshNode: CommandNode {
  /// The host name or address, as given (resolved on the gateway's side when there is one).
  public let hostname: String
  /// The remote user.
  public let username: String
  /// The SSH port.
  public let port: Int
  /// The name its output is shown under: the host name, or what the node's creator chose to tell
  /// it apart from another node with the same host name (`host:port`).
  public let displayName: String
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
  }
  private let lifecycle = Mutex(Lifecycle())
  /// Whether the formatter heard that SFTP started on the current connection (shared with the
  /// connection's event handler, which resets it).
  private let sftpAnnounced: Flag

  /// Creates a node (no connection is made until a command needs it).
  /// - Parameters:
  ///   - hostname: host name or address.
  ///   - username: remote user; the local user by default.
  ///   - port: SSH port.
  ///   - keys: private key files to try; by default `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`.
  ///   - gateway: a node to tunnel through (jump host); chains of any depth work.
  ///   - formatter: where output goes; the process-wide `defaultFormatter` (a `HostFormatter`) by default.
  ///   - hostKeyPolicy: how host keys are checked (accept-new by default).
  ///   - connectTimeout: limit for TCP connect, handshake and authentication, per attempt.
  ///   - connectionAttempts: how many times to try to connect (errors worth retrying only).
  ///   - knownHostsPath: the known_hosts file; `~/.ssh/known_hosts` by default.
  ///   - useAgent: whether to try the ssh-agent first.
  public convenience init(
    hostname: String, username: String? = nil, port: Int = 22, keys: [String]? = nil, gateway: SshNode? = nil,
    formatter: (any OutputFormatter)? = nil, hostKeyPolicy: HostKeyPolicy = .acceptNew,
    connectTimeout: Duration = .seconds(30), connectionAttempts: Int = 1, knownHostsPath: String? = nil,
    useAgent: Bool = true
  ) {
    let configuration = SshConfiguration(
      host: hostname, port: port, username: username, keyPaths: keys, useAgent: useAgent,
      hostKeyPolicy: hostKeyPolicy, knownHostsPath: knownHostsPath, connectTimeout: connectTimeout,
      connectionAttempts: connectionAttempts)
    self.init(configuration: configuration, gateway: gateway, formatter: formatter)
  }

  /// Creates a node from a full connection configuration (passphrase callback, keepalives,
  /// retries, `maxSessions`…).
  /// - Parameter displayName: the name output lines and files show (the host name by default).
  public init(
    configuration: SshConfiguration, gateway: SshNode? = nil, formatter: (any OutputFormatter)? = nil,
    displayName: String? = nil
  ) {
    hostname = configuration.host
    username = configuration.username
    port = configuration.port
    self.displayName = displayName ?? configuration.host
    self.gateway = gateway
    let formatter = formatter ?? defaultFormatter
    self.formatter = formatter
    let origin = OutputOrigin(hostname: self.displayName, username: username)
    let direct = gateway == nil
    let sftp = Flag()
    sftpAnnounced = sftp
    connection = SshConnection(configuration: configuration, gateway: gateway?.connection) { event in
      Self.report(event, to: formatter, from: origin, direct: direct, sftp: sftp)
    }
    formatter.register(origin)
  }

  /// Tells the formatter what the connection does.
  private static func report(
    _ event: ConnectionEvent, to formatter: any OutputFormatter, from origin: OutputOrigin, direct: Bool, sftp: Flag
  ) {
    switch event {
    case .connecting:
      formatter.event(.connecting(direct: direct), from: origin)
    case .connected:
      // A new connection has no SFTP session yet, whatever happened to the previous one.
      sftp.set(false)
      formatter.event(.authenticated, from: origin)
    case .attemptFailed(let error, let willRetry):
      formatter.event(
        willRetry ? .connectionRetrying(reason: error.message) : .connectionFailed(reason: error.message), from: origin)
    case .lost:
      sftp.set(false)
    case .closed:
      if sftp.exchange(false) { formatter.event(.sftpStopped, from: origin) }
      formatter.event(.connectionClosed, from: origin)
    case .hostKeyRecorded(let host, let keyType, let file):
      formatter.event(.hostKeyRecorded(host: host, keyType: keyType, file: file), from: origin)
    case .hostKeyChangedUnchecked(let host, let keyType, let file, let line):
      formatter.event(.hostKeyChangedUnchecked(host: host, keyType: keyType, file: file, line: line), from: origin)
    }
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

  /// Runs `commandLine` on a new channel of the node's connection (connecting first if needed);
  /// when `timeout` passes or the task is cancelled, the remote command is stopped.
  public func execute(
    _ commandLine: String, timeout: Duration?, input: CommandInput,
    output: @escaping @Sendable (OutputChunk.Stream, [UInt8]) async -> Void
  ) async throws -> ExitStatus {
    try await ensureConnected()
    return try await connection.execute(commandLine, timeout: timeout, stdin: input) { chunk in
      await output(chunk.stream, chunk.bytes)
    }
  }

  /// Connects (the gateways first, through the connection's own tunnel) if not connected; the
  /// connection reports each attempt to the formatter once, however many jobs wait for it.
  public func ensureConnected() async throws {
    await waitForPendingClose()
    try await connection.connect()
  }

  /// The connection, connected, for SFTP operations.
  func connectedForSftp() async throws -> SshConnection {
    try await ensureConnected()
    if !sftpAnnounced.exchange(true) { formatter.event(.sftpStarted, from: origin) }
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
    await connection.close()
  }
}

/// A Boolean shared between tasks.
final class Flag: Sendable {
  private let value = Atomic<Bool>(false)

  /// Sets the value.
  func set(_ newValue: Bool) { value.store(newValue, ordering: .relaxed) }

  /// Sets the value and returns the previous one.
  func exchange(_ newValue: Bool) -> Bool { value.exchange(newValue, ordering: .relaxed) }
}
