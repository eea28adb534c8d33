import SshClient

/// Runs a command line on the node: `Run("echo", "hi")` or `Run("echo hi")`.
///
/// The arguments are joined with spaces, without any quoting (the remote shell sees them as
/// written). `{{ name }}` placeholders (see ``Template``) take the values of `variables` (or of
/// the capture's variables) when the command runs, shell-quoted unless written `{{ name | raw }}`;
/// a placeholder whose variable has no value then makes the command fail.
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
  /// The time limit of the command; nil for its job's.
  public var timeout: Duration?
  /// What the command reads on its standard input (end-of-file at once by default).
  public var stdin: CommandInput

  /// Creates a command from words joined by spaces.
  public init(
    _ argv: String..., label: String? = nil, allowedExits: [AllowedExit] = [], capture: Capture? = nil,
    variables: Variables? = nil, verbose: Bool = false, timeout: Duration? = nil, stdin: CommandInput = .none
  ) {
    self.init(
      argv: argv, label: label, allowedExits: allowedExits, capture: capture, variables: variables, verbose: verbose,
      timeout: timeout, stdin: stdin)
  }

  /// Creates a command from an array of words joined by spaces.
  public init(
    argv: [String], label: String? = nil, allowedExits: [AllowedExit] = [], capture: Capture? = nil,
    variables: Variables? = nil, verbose: Bool = false, timeout: Duration? = nil, stdin: CommandInput = .none
  ) {
    self.argv = argv
    self.stdin = stdin
    self.label = label
    self.allowedExits = allowedExits
    self.capture = capture
    self.variables = variables
    self.verbose = verbose
    self.timeout = timeout
  }

  /// The command line, with the variables known now expanded (placeholders of the others shown).
  public var commandLine: String {
    let line = argv.joined(separator: " ")
    return (variables ?? capture?.variables)?.render(line) ?? line
  }

  /// The command line.
  public var labelLine: String { commandLine }

  /// Runs the command line on the node.
  public func run(in context: CommandContext) async throws -> ExitStatus {
    let line = try resolvedLine(context)
    context.message("Run: -> \(line)")
    let status = try await context.execute(line, capture: capture, input: stdin)
    context.message("Run: \(status) <- \(line)")
    return status
  }

  private func resolvedLine(_ context: CommandContext) throws -> String {
    let line = argv.joined(separator: " ")
    guard let variables = variables ?? capture?.variables else { return line }
    do {
      return try variables.resolve(line)
    } catch {
      throw CommandError(host: context.node.userHost, "\(displayLabel): \(error)")
    }
  }
}
