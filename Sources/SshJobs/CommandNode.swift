import SshClient

/// A place where commands run: an `SshNode` (a remote host) or the `LocalNode`.
public protocol CommandNode: AnyObject, Sendable, CustomStringConvertible {
  /// The host name, as output lines name it.
  var hostname: String { get }
  /// The user commands run as.
  var username: String { get }
  /// Where the output of commands run on this node goes.
  var formatter: any OutputFormatter { get }
  /// Runs `commandLine` through the node's shell, streaming its output chunks to `output` as they
  /// arrive, and returns how it ended. When `timeout` passes, or the calling task is cancelled,
  /// the command is stopped; a timeout throws `SshError` `.commandTimeout`.
  func execute(
    _ commandLine: String, timeout: Duration?, output: @escaping @Sendable (OutputChunk.Stream, [UInt8]) async -> Void
  ) async throws -> ExitStatus
}

extension CommandNode {
  /// `user@host`.
  public var userHost: String { "\(username)@\(hostname)" }

  /// The origin of this node's output, for formatters.
  public var origin: OutputOrigin { OutputOrigin(hostname: hostname, username: username) }
}
