import SshClient

/// An exit status that a command may end with without failing: an exit code or a signal name.
///
/// Literals work: `allowedExits: [100, "TERM"]`.
public enum AllowedExit: Sendable, Hashable, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral,
  CustomStringConvertible
{
  /// An exit code.
  case code(Int32)
  /// A signal name, with or without `SIG` (`TERM`, `SIGTERM`).
  case signal(String)

  /// An exit code.
  public init(integerLiteral value: Int32) { self = .code(value) }
  /// A signal name.
  public init(stringLiteral value: String) { self = .signal(value) }

  /// Whether `status` is this exit.
  public func matches(_ status: ExitStatus) -> Bool {
    switch (self, status) {
    case (.code(let allowed), .code(let code)): return allowed == code
    case (.signal(let allowed), .signal(let name)): return Self.bare(allowed) == Self.bare(name)
    default: return false
    }
  }

  private static func bare(_ name: String) -> String {
    let upper = name.uppercased()
    return upper.hasPrefix("SIG") ? String(upper.dropFirst(3)) : upper
  }

  /// `100` or `TERM`.
  public var description: String {
    switch self {
    case .code(let code): return String(code)
    case .signal(let name): return name
    }
  }
}

/// One step of an `SshJob`: `Run`, `RunScript`, `RunString`, `Push`, `Pull`, or your own.
public protocol Command: Sendable {
  /// A label given by the user, shown instead of `labelLine`.
  var label: String? { get }
  /// What the command does, on one line (e.g. the command line).
  var labelLine: String { get }
  /// Statuses besides 0 that count as success.
  var allowedExits: [AllowedExit] { get }
  /// Whether the command reports what it does (`Run: -> …`) through the node's formatter.
  var verbose: Bool { get }
  /// The command's own time limit; nil to use its job's (``SshJob/commandTimeout``), if any.
  var timeout: Duration? { get }
  /// Runs the command on `context.node`; returns its exit status. Throws for connection, SFTP and
  /// local file errors, and `SshError` `.commandTimeout` when `context.deadline` passes.
  func run(in context: CommandContext) async throws -> ExitStatus
}

extension Command {
  /// No limit of its own (commands that have none: their job's applies).
  public var timeout: Duration? { nil }

  /// `label`, else `labelLine`.
  public var displayLabel: String { label ?? labelLine }

  /// Whether `status` means success: 0 or one of `allowedExits`.
  public func isSuccess(_ status: ExitStatus) -> Bool {
    status.isSuccess || allowedExits.contains { $0.matches(status) }
  }
}

/// An error of a command before or around running it (a missing local script, an operation the
/// node does not support), naming the host.
public struct CommandError: Error, Sendable, CustomStringConvertible {
  /// `user@host` of the node.
  public let host: String
  /// What went wrong.
  public let message: String

  /// Creates an error.
  public init(host: String, _ message: String) {
    self.host = host
    self.message = message
  }

  /// `host: message`.
  public var description: String { "\(host): \(message)" }
}

/// What a command gets to run: its node, verbosity, deadline, and helpers to run shell commands
/// with their output routed to the node's formatter (or to a capture).
public struct CommandContext: Sendable {
  /// The node the command runs on.
  public let node: any CommandNode
  /// Whether the command should report what it does.
  public let verbose: Bool
  /// When the command must be over (its time limit counted from its start), if it has one.
  public let deadline: ContinuousClock.Instant?
  /// The time limit the deadline comes from (for messages).
  public let timeout: Duration?

  /// Creates a context (SshJob does it for each command, when the command starts).
  /// - Parameter timeout: the command's time limit, counted from now.
  public init(node: any CommandNode, verbose: Bool, timeout: Duration? = nil) {
    self.node = node
    self.verbose = verbose
    self.timeout = timeout
    deadline = timeout.map { ContinuousClock.now + $0 }
  }

  /// What is left of the time limit (zero once past), nil without one.
  public var remaining: Duration? {
    deadline.map { max(.zero, $0 - ContinuousClock.now) }
  }

  /// When verbose, sends `text` to the node's formatter as a message (printed like a stderr line).
  public func message(_ text: @autoclosure () -> String) {
    if verbose { node.formatter.event(.message(text()), from: node.origin) }
  }

  /// Reports `text` as a line `warning: <text>` of the node's stderr, verbose or not (a file a
  /// copy skipped, a remote script that could not be removed): the formatter prefixes it with
  /// the host, `--json` keeps it in the host's record.
  public func warning(_ text: String) {
    node.formatter.lines(Array("warning: \(text)\n".utf8)[...], stream: .stderr, from: node.origin)
  }

  /// Runs `commandLine` on the node within what is left of the time limit: stdout to the node's
  /// formatter, or into `capture`; stderr to the formatter. Partial last lines are flushed at the
  /// end. A remote command cancelled or timed out is stopped (see `SshConnection.execute`).
  public func execute(_ commandLine: String, capture: Capture? = nil, input: CommandInput = .none) async throws
    -> ExitStatus
  {
    let relay = OutputRelay(formatter: node.formatter, origin: node.origin, capturing: capture != nil)
    node.formatter.event(.sessionStarted(command: commandLine), from: node.origin)
    let status: ExitStatus
    do {
      status = try await node.execute(commandLine, timeout: remaining, input: input) { stream, bytes in
        relay.receive(bytes[...], stream: stream)
      }
    } catch let error as SshError where error.code == .commandTimeout {
      relay.finish()
      // Named with the command's own limit, not what was left of it when the command started.
      throw SshError(
        .commandTimeout, host: error.host,
        "command timed out after \(timeout.map(\.compactDescription) ?? "?"): \(commandLine)")
    } catch {
      relay.finish()
      throw error
    }
    let captured = relay.finish()
    node.formatter.event(.sessionEnded(command: commandLine), from: node.origin)
    capture?.store(captured)
    return status
  }

  /// Runs `body` within what is left of the time limit; past it, `body` is cancelled and an
  /// `SshError` `.commandTimeout` naming `what` is thrown (for commands that are not one remote
  /// process: transfers, script installation).
  @discardableResult
  public func withinTimeLimit<T: Sendable>(_ what: String, _ body: @escaping @Sendable () async throws -> T)
    async throws -> T
  {
    guard let deadline, let timeout else { return try await body() }
    let host = node.userHost
    return try await withThrowingTaskGroup(of: T?.self) { group in
      group.addTask { try await body() }
      group.addTask {
        try await Task.sleep(until: deadline, clock: .continuous)
        return nil
      }
      defer { group.cancelAll() }
      guard let first = try await group.next(), let value = first else {
        throw SshError(.commandTimeout, host: host, "timed out after \(timeout.compactDescription): \(what)")
      }
      return value
    }
  }

  /// The node's SSH connection, connected (for SFTP); throws a `CommandError` on a `LocalNode`.
  public func sshConnection(for what: String) async throws -> SshConnection {
    guard let ssh = node as? SshNode else {
      throw CommandError(host: node.userHost, "\(what) is not supported on a local node")
    }
    return try await ssh.connectedForSftp()
  }
}

/// Eight random lowercase letters (remote script names).
func randomSuffix() -> String {
  let letters = Array("abcdefghijklmnopqrstuvwxyz")
  var generator = SystemRandomNumberGenerator()
  return String((0..<8).map { _ in letters[Int(generator.next() % 26)] })
}

/// The last path component of `path`.
func baseName(_ path: String) -> String {
  var trimmed = Substring(path)
  while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
  return trimmed.split(separator: "/").last.map(String.init) ?? String(trimmed)
}
