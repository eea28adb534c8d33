import SshJobs

/// A command run by the CLI on one host: connects first with up to `attempts` tries (`--retries`),
/// then runs `inner` within `timeout` (`--command-timeout`). Labels are the inner command's.
///
/// SshJobs' `Run` has no timeout of its own and `SshNode` makes one connection attempt, hence this
/// wrapper (a per-job `AbstractJob.timeout` would count the connection time in the limit).
struct GuardedCommand: Command {
  /// The command that does the work.
  let inner: any Command
  /// Connection attempts (at least 1).
  let attempts: Int
  /// The pause between attempts.
  let retryDelay: Duration
  /// The limit of the inner command, if any.
  let timeout: Duration?
  /// Where the remote shell wrote its pid (see `RemoteProcessGroup`), to stop it when the command is
  /// cancelled (Ctrl-C) or times out.
  let processGroup: RemoteProcessGroup?

  var label: String? { inner.label }
  var labelLine: String { inner.labelLine }
  var allowedExits: [AllowedExit] { inner.allowedExits }
  var verbose: Bool { inner.verbose }

  func run(in context: CommandContext) async throws -> ExitStatus {
    if let node = context.node as? SshNode { try await connect(node) }
    do {
      return try await runInner(in: context)
    } catch {
      if let processGroup, let node = context.node as? SshNode,
        Task.isCancelled || error is CommandTimeoutError
      {
        await processGroup.stop(on: node)
      }
      throw error
    }
  }

  private func runInner(in context: CommandContext) async throws -> ExitStatus {
    guard let timeout else { return try await inner.run(in: context) }
    let inner = self.inner
    let host = context.node.description
    return try await withThrowingTaskGroup(of: ExitStatus?.self) { group in
      group.addTask { try await inner.run(in: context) }
      group.addTask {
        try await Task.sleep(for: timeout)
        return nil
      }
      defer { group.cancelAll() }
      guard let first = try await group.next(), let status = first else {
        throw CommandTimeoutError(host: host, timeout: timeout, command: inner.displayLabel)
      }
      return status
    }
  }

  private func connect(_ node: SshNode) async throws {
    var attempt = 1
    while true {
      do {
        try await node.ensureConnected()
        return
      } catch let error as SshError where attempt < attempts && Self.isRetryable(error.code) {
        attempt += 1
        try await Task.sleep(for: retryDelay)
      }
    }
  }

  /// Errors worth another connection attempt (not auth or host key failures).
  static func isRetryable(_ code: SshError.Code) -> Bool {
    switch code {
    case .connectionRefused, .unreachable, .connectTimeout, .handshakeFailed, .disconnected, .dnsFailure: return true
    default: return false
    }
  }
}

/// A command that did not finish within `--command-timeout`.
public struct CommandTimeoutError: Error, Sendable, CustomStringConvertible {
  /// `user@host` of the node.
  public let host: String
  /// The limit.
  public let timeout: Duration
  /// The command's label.
  public let command: String

  /// `host: command timed out after 2 seconds: sleep 10`.
  public var description: String { "\(host): command timed out after \(timeout): \(command)" }
}
