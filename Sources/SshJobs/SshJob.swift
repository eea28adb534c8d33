import AsyncJobs
import SshClient
import Synchronization

/// A job that runs a sequence of commands on one node (`SshNode` or `LocalNode`).
///
/// Commands run in order. A command succeeds when it ends with 0 or a status of its
/// `allowedExits`. A critical job stops at the first failure and throws `CommandFailedError`; a
/// non-critical job goes on, and its result is the status of the last failing command (`.code(0)`
/// when all succeeded). Connection, SFTP and local file errors are thrown whatever `critical` says.
///
/// The job registers with its node when its scheduler's run starts (`prepareForRun()`, or at the
/// start of `run()` for a job run on its own), and releases it as soon as its commands are over
/// (or in `shutdown()`, called by its scheduler at the end of the run, for a job that never ran):
/// the node closes its connection when no job of the run may use it any more (see `SshNode`),
/// unless `keepConnection` is set. So a jobs window bounds the connections open at once.
public final class SshJob: AbstractJob, @unchecked Sendable {
  /// Where the commands run.
  public let node: any CommandNode
  /// The commands, in order.
  public let commands: [any Command]
  /// Whether the node's connection stays open after the job is shut down (until
  /// `closeConnections(in:)` or `SshNode.close()`).
  public let keepConnection: Bool
  /// When set, overrides the `verbose` flag of every command.
  public let verbose: Bool?
  /// The time limit of each command that has none of its own (`Command.timeout`), counted from the
  /// command's start once the node is connected; nil for none.
  public var commandTimeout: Duration?

  private let registered = Mutex(false)

  /// Creates a job.
  /// - Parameters:
  ///   - node: where the commands run.
  ///   - commands: the commands, run in order.
  ///   - label: a label for listings and graphs (default: the first command's label).
  ///   - critical: whether a failing command throws (and aborts the scheduler).
  ///   - forever: whether the job runs until the scheduler's finite jobs are done.
  ///   - requires: the jobs this one waits for.
  ///   - keepConnection: keep the node's connection open after the job is shut down.
  ///   - verbose: when set, overrides the commands' `verbose`.
  public init(
    node: any CommandNode, commands: [any Command], label: String? = nil, critical: Bool = true,
    forever: Bool = false, requires: [AbstractJob] = [], keepConnection: Bool = false, verbose: Bool? = nil
  ) {
    self.node = node
    self.commands = commands
    self.keepConnection = keepConnection
    self.verbose = verbose
    super.init(label: label, critical: critical, forever: forever, requires: requires)
  }

  /// Creates a job running one shell command line.
  public convenience init(
    node: any CommandNode, command: String, label: String? = nil, critical: Bool = true, forever: Bool = false,
    requires: [AbstractJob] = [], keepConnection: Bool = false, verbose: Bool? = nil
  ) {
    self.init(
      node: node, commands: [Run(command)], label: label, critical: critical, forever: forever, requires: requires,
      keepConnection: keepConnection, verbose: verbose)
  }

  /// Creates a job running one command.
  public convenience init(
    node: any CommandNode, command: any Command, label: String? = nil, critical: Bool = true,
    forever: Bool = false, requires: [AbstractJob] = [], keepConnection: Bool = false, verbose: Bool? = nil
  ) {
    self.init(
      node: node, commands: [command], label: label, critical: critical, forever: forever, requires: requires,
      keepConnection: keepConnection, verbose: verbose)
  }

  /// The node as an `SshNode`, when it is one.
  public var sshNode: SshNode? { node as? SshNode }

  // MARK: - Running

  /// Runs the commands in order (see the type's documentation).
  /// - Returns: an `ExitStatus`: `.code(0)`, or the status of the last failing command of a
  ///   non-critical job.
  public override func run() async throws -> (any Sendable)? {
    register()  // no-op under a scheduler (prepareForRun did it); needed for a job run on its own
    do {
      let status = try await runCommands()
      await releaseNode()
      return status
    } catch {
      // The node is let go as soon as the job is over, however it ends: its connection closes
      // when no other job of the run may use it (so a jobs window bounds open connections too).
      await releaseNode()
      throw error
    }
  }

  private func runCommands() async throws -> ExitStatus {
    var overall = ExitStatus.code(0)
    for (index, command) in commands.enumerated() {
      try Task.checkCancellation()
      // Connecting has its own time limit: a command's starts once the node is connected.
      if let ssh = sshNode { try await ssh.ensureConnected() }
      let context = CommandContext(
        node: node, verbose: verbose ?? command.verbose, timeout: command.timeout ?? commandTimeout)
      let status = try await command.run(in: context)
      if command.isSuccess(status) { continue }
      if critical {
        throw CommandFailedError(
          host: node.description, command: command.displayLabel, status: status, index: index + 1)
      }
      overall = status
    }
    return overall
  }

  /// Takes the node (its connection stays open while a job of the run may use it): the whole tree
  /// of a run registers before any job runs, so an inner scheduler's end cannot close a
  /// connection an outer job still needs, and a job that never gets to run holds nothing.
  public override func prepareForRun() { register() }

  /// Releases the node if the job still holds it (a job that never ran, or was stopped).
  public override func shutdown() async { await releaseNode() }

  /// Lets the node go (its connection closes when no job uses it any more); once per registration.
  private func releaseNode() async {
    let release = registered.withLock { registered in
      defer { registered = false }
      return registered
    }
    if release, let ssh = sshNode { await ssh.release() }
  }

  private func register() {
    let register = registered.withLock { registered in
      defer { registered = true }
      return !registered
    }
    if register, let ssh = sshNode { ssh.retain(keepConnection: keepConnection) }
  }

  // MARK: - Labels

  /// The first command's label, followed by `.. + N` when there are more.
  public override var textLabel: String? {
    guard let first = commands.first else { return nil }
    return commands.count > 1 ? "\(first.displayLabel).. + \(commands.count - 1)" : first.displayLabel
  }

  /// `user@host` on a first line, then one line per command label.
  public override var details: String? {
    ([node.userHost] + commands.map(\.displayLabel).filter { !$0.isEmpty }).joined(separator: "\n")
  }
}
