/// The exit codes of `apssh`, `appush` and `appull`, which scripts can rely on.
public enum ExitCodes {
  /// Every host succeeded (or there was nothing to run: `-V`, `-n`, `-L`, `--help`).
  public static let success: Int32 = 0
  /// Some command failed (non-zero status, killed, timed out, transfer error), or output could not
  /// be written.
  public static let failure: Int32 = 1
  /// Usage or input error: bad option, missing file, bad inventory or scenario, unknown group.
  public static let usage: Int32 = 2
  /// Some host could not be reached or logged into (refused, unreachable, DNS, connect timeout,
  /// handshake, host key, authentication); other hosts may have failed too.
  public static let unreachable: Int32 = 3
  /// Interrupted by SIGINT (Ctrl-C): remote commands were stopped and connections closed. Other
  /// signals give 128 + their number likewise (143 SIGTERM, 129 SIGHUP, 141 stdout closed).
  public static let interrupted: Int32 = 130
}

/// An error that ends a command with a message on stderr and an exit code.
public struct CLIError: Error, Sendable, CustomStringConvertible {
  /// The message, printed on stderr.
  public let message: String
  /// The exit code.
  public let code: Int32

  /// Creates an error; usage errors (exit 2) by default.
  public init(_ message: String, code: Int32 = ExitCodes.usage) {
    self.message = message
    self.code = code
  }

  /// The message.
  public var description: String { message }
}
