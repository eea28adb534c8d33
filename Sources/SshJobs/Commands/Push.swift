import SshClient

/// Copies local files (or directories, with `recursive`) to the node by SFTP, like `scp`: into
/// `remotePath` when it is an existing directory, else to that name. Relative remote paths are
/// relative to the remote home; `~/` works.
///
/// In a directory tree, symbolic links are followed; a loop, a link to nothing or a special file
/// is skipped with a `warning: …` line on the host's stderr, and the rest is copied (see
/// `SshConnection.put`).
public struct Push: Command {
  /// The local files.
  public let localPaths: [String]
  /// The remote destination.
  public let remotePath: String
  /// Copy directories recursively.
  public let recursive: Bool
  /// Keep modes and modification times.
  public let preserve: Bool
  /// A label shown instead of `Push: <file> onto <remotePath>`.
  public var label: String?
  /// Whether to report what happens.
  public var verbose: Bool
  /// The time limit of the transfer; nil for its job's.
  public var timeout: Duration?
  /// Always empty: a copy either works or throws.
  public var allowedExits: [AllowedExit] { [] }

  /// Creates the command.
  public init(
    localPaths: [String], remotePath: String, recursive: Bool = false, preserve: Bool = false, label: String? = nil,
    verbose: Bool = false, timeout: Duration? = nil
  ) {
    self.localPaths = localPaths
    self.remotePath = remotePath
    self.recursive = recursive
    self.preserve = preserve
    self.label = label
    self.verbose = verbose
    self.timeout = timeout
  }

  /// `Push: a onto dir` or `Push: a ... (3 total) onto dir`.
  public var labelLine: String { "Push: \(summary(localPaths)) onto \(remotePath)" }

  /// Copies the files; returns `.code(0)` or throws.
  public func run(in context: CommandContext) async throws -> ExitStatus {
    let connection = try await context.sshConnection(for: "Push")
    context.message("Push: localpaths=\(localPaths), remotepath=\(remotePath)")
    try await context.withinTimeLimit(labelLine) { [self] in
      try await connection.put(
        localPaths, to: remotePath, recursive: recursive, preserve: preserve, warnings: { context.warning($0) })
    }
    context.message("Push done")
    return .code(0)
  }
}

/// `a`, or `a ... (3 total)`.
func summary(_ paths: [String]) -> String {
  guard let first = paths.first else { return "(nothing)" }
  return paths.count == 1 ? first : "\(first) ... (\(paths.count) total)"
}
