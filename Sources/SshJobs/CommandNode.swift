import SshClient

/// A place where commands run: an `SshNode` (a remote host) or the `LocalNode`.
public protocol CommandNode: AnyObject, Sendable, CustomStringConvertible {
  /// The host name (or address) the node connects to.
  var hostname: String { get }
  /// The name output lines and files show: the host name, unless the run needs more to tell two
  /// nodes apart (`host:port`).
  var displayName: String { get }
  /// The user commands run as.
  var username: String { get }
  /// Where the output of commands run on this node goes.
  var formatter: any OutputFormatter { get }
  /// Runs `commandLine` through the node's shell, streaming its output chunks to `output` as they
  /// arrive, and returns how it ended. When `timeout` passes, or the calling task is cancelled,
  /// the command is stopped; a timeout throws `SshError` `.commandTimeout`.
  func execute(
    _ commandLine: String, timeout: Duration?, input: CommandInput,
    output: @escaping @Sendable (OutputChunk.Stream, [UInt8]) async -> Void
  ) async throws -> ExitStatus
}

extension CommandNode {
  /// `user@host`.
  public var userHost: String { "\(username)@\(hostname)" }

  /// The origin of this node's output, for formatters.
  public var origin: OutputOrigin { OutputOrigin(hostname: displayName, username: username) }
}
