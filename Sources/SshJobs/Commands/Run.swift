import SshClient

/// Runs a command line on the node: `Run("echo", "hi")` or `Run("echo hi")`.
///
/// The arguments are joined with spaces, without any quoting (the remote shell sees them as
/// written). `{{name}}` placeholders are expanded from `variables` (or the capture's variables) at
/// run time.
public struct Run: Command {
  /// The words of the command line.
  public let argv: [String]
  /// A label shown instead of the command line.
  public var label: String?
  /// Statuses besides 0 that count as success.
  public var allowedExits: [AllowedExit]
  /// Where stdout goes instead of the formatter.
  public var capture: Capture?
  /// Variables expanded in the command line (defaults to the capture's).
  public var variables: Variables?
  /// Whether to report `Run: -> command` and `Run: status <- command`.
  public var verbose: Bool

  /// Creates a command from words joined by spaces.
  public init(
    _ argv: String..., label: String? = nil, allowedExits: [AllowedExit] = [], capture: Capture? = nil,
    variables: Variables? = nil, verbose: Bool = false
  ) {
    self.init(
      argv: argv, label: label, allowedExits: allowedExits, capture: capture, variables: variables, verbose: verbose)
  }

  /// Creates a command from an array of words joined by spaces.
  public init(
    argv: [String], label: String? = nil, allowedExits: [AllowedExit] = [], capture: Capture? = nil,
    variables: Variables? = nil, verbose: Bool = false
  ) {
    self.argv = argv
    self.label = label
    self.allowedExits = allowedExits
    self.capture = capture
    self.variables = variables
    self.verbose = verbose
  }

  /// The command line, with the variables known now expanded.
  public var commandLine: String {
    let line = argv.joined(separator: " ")
    return (variables ?? capture?.variables)?.render(line) ?? line
  }

  /// The command line.
  public var labelLine: String { commandLine }

  /// Runs the command line on the node.
  public func run(in context: CommandContext) async throws -> ExitStatus {
    let line = commandLine
    context.message("Run: -> \(line)")
    let status = try await context.execute(line, capture: capture)
    context.message("Run: \(status) <- \(line)")
    return status
  }
}
