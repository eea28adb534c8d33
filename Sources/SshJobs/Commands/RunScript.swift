import SshClient

/// Copies a local script to the node (SFTP, to `~/.apssh-remote/` under a unique name, private:
/// mode 700) with its includes beside it, then runs it with `args`, and removes it once it has
/// ended, unless `keepScript`: `RunScript("setup.sh", "arg1", includes: ["lib.sh"])`.
///
/// With `verbose`, the script runs through `bash -x`. A missing local script throws `CommandError`.
public struct RunScript: Command {
  /// The local script.
  public let localPath: String
  /// Its arguments (joined with spaces, not quoted; `{{name}}` expanded at run time).
  public let args: [String]
  /// Local files copied beside the script.
  public let includes: [String]
  /// A label shown instead of `RunScript: <name> <args>`.
  public var label: String?
  /// Statuses besides 0 that count as success.
  public var allowedExits: [AllowedExit]
  /// Where stdout goes instead of the formatter.
  public var capture: Capture?
  /// Variables expanded in the arguments.
  public var variables: Variables?
  /// Whether to report what happens (and run through `bash -x`).
  public var verbose: Bool
  /// The time limit of the command (installing and running the script); nil for its job's.
  public var timeout: Duration?
  /// What the script reads on its standard input (end-of-file at once by default).
  public var stdin: CommandInput
  /// Whether the script installed in `~/.apssh-remote/` stays there after the run (by default
  /// it is removed once the command has ended, whatever the outcome).
  public var keepScript: Bool

  /// Creates the command.
  public init(
    _ localPath: String, _ args: String..., includes: [String] = [], label: String? = nil,
    allowedExits: [AllowedExit] = [], capture: Capture? = nil, variables: Variables? = nil, verbose: Bool = false,
    timeout: Duration? = nil, stdin: CommandInput = .none, keepScript: Bool = false
  ) {
    self.init(
      localPath: localPath, args: args, includes: includes, label: label, allowedExits: allowedExits,
      capture: capture, variables: variables, verbose: verbose, timeout: timeout, stdin: stdin, keepScript: keepScript)
  }

  /// Creates the command with an array of arguments.
  public init(
    localPath: String, args: [String], includes: [String] = [], label: String? = nil,
    allowedExits: [AllowedExit] = [], capture: Capture? = nil, variables: Variables? = nil, verbose: Bool = false,
    timeout: Duration? = nil, stdin: CommandInput = .none, keepScript: Bool = false
  ) {
    self.localPath = localPath
    self.args = args
    self.includes = includes
    self.label = label
    self.allowedExits = allowedExits
    self.capture = capture
    self.variables = variables
    self.verbose = verbose
    self.timeout = timeout
    self.stdin = stdin
    self.keepScript = keepScript
  }

  private var script: RemoteScript {
    RemoteScript(
      source: .file(localPath), name: baseName(localPath), args: args, includes: includes, capture: capture,
      variables: variables, stdin: stdin, kind: "RunScript",
      keep: keepScript)
  }

  /// `RunScript: <script name> <args>`.
  public var labelLine: String { "RunScript: \(baseName(localPath)) \(script.argsLine)" }

  /// Installs and runs the script.
  public func run(in context: CommandContext) async throws -> ExitStatus {
    try await script.run(in: context)
  }
}
