import SshClient

/// Copies remote files (or directories, with `recursive`) from the node by SFTP, like `scp`: into
/// `localPath` when it is an existing directory, else to that name. Relative remote paths are
/// relative to the remote home; `~/` works.
///
/// In a directory tree, symbolic links are followed; a loop, a link to nothing or a special file
/// is skipped with a `warning: …` line on the host's stderr, and the rest is copied (see
/// `SshConnection.get`).
public struct Pull: Command {
  /// The remote files.
  public let remotePaths: [String]
  /// The local destination.
  public let localPath: String
  /// Copy directories recursively.
  public let recursive: Bool
  /// Keep modes and modification times.
  public let preserve: Bool
  /// A label shown instead of `Pull: <file> into <localPath>`.
  public var label: String?
  /// Whether to report what happens.
  public var verbose: Bool
  /// The time limit of the transfer; nil for its job's.
  public var timeout: Duration?
  /// Always empty: a copy either works or throws.
  public var allowedExits: [AllowedExit] { [] }

  /// Creates the command.
  public init(
    remotePaths: [String], localPath: String, recursive: Bool = false, preserve: Bool = false, label: String? = nil,
    verbose: Bool = false, timeout: Duration? = nil
  ) {
    self.remotePaths = remotePaths
    self.localPath = localPath
    self.recursive = recursive
    self.preserve = preserve
    self.label = label
    self.verbose = verbose
    self.timeout = timeout
  }

  /// `Pull: a into dir` or `Pull: a ... (3 total) into dir`.
  public var labelLine: String { "Pull: \(summary(remotePaths)) into \(localPath)" }

  /// Copies the files; returns `.code(0)` or throws.
  public func run(in context: CommandContext) async throws -> ExitStatus {
    let connection = try await context.sshConnection(for: "Pull")
    context.message("Pull: remotepaths=\(remotePaths), localpath=\(localPath)")
    try await context.withinTimeLimit(labelLine) { [self] in
      try await connection.get(
        remotePaths, to: localPath, recursive: recursive, preserve: preserve, warnings: { context.warning($0) })
    }
    context.message("Pull done")
    return .code(0)
  }
}
