import SshClient

/// Thrown by a critical `SshJob` when one of its commands ends with a status that is neither 0 nor
/// allowed.
public struct CommandFailedError: Error, Sendable, CustomStringConvertible {
  /// The node, as `user@host` (with its gateway: `gw->user@host`).
  public let host: String
  /// The failing command's label (its command line unless labelled).
  public let command: String
  /// How it ended.
  public let status: ExitStatus
  /// Its position in the job, from 1.
  public let index: Int

  /// Creates the error.
  public init(host: String, command: String, status: ExitStatus, index: Int) {
    self.host = host
    self.command = command
    self.status = status
    self.index = index
  }

  /// `command hostname returned 1 on node user@host`.
  public var description: String { "command \(command) returned \(status) on node \(host)" }
}
