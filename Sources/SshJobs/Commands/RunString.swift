import SshClient

/// Writes a script given as a string to the node (to `~/.apssh-remote/`, under a unique name, mode
/// 700), with includes beside it, then runs it with `args`, and removes it once it has ended,
/// unless `keepScript`:
/// `RunString("#!/bin/bash\necho $1", "hello", remoteName: "greet.sh")`.
public struct RunString: Command {
  /// The script's text (usually starting with a `#!` line).
  public let body: String
  /// Its arguments (joined with spaces, not quoted; `{{name}}` expanded at run time).
  public let args: [String]
  /// The base of the remote file name (random when nil).
  public let remoteName: String?
  /// Local files copied beside the script.
  public let includes: [String]
  /// A label shown instead of `RunString: <first line> <args>`.
  public var label: String?
  /// Statuses besides 0 that count as success.
  public var allowedExits: [AllowedExit]
  /// Where stdout goes instead of the formatter.
  public var capture: Capture?
  /// Variables expanded in the arguments and the body.
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
    _ body: String, _ args: String..., remoteName: String? = nil, includes: [String] = [], label: String? = nil,
    allowedExits: [AllowedExit] = [], capture: Capture? = nil, variables: Variables? = nil, verbose: Bool = false,
    timeout: Duration? = nil, stdin: CommandInput = .none, keepScript: Bool = false
  ) {
    self.init(
      body: body, args: args, remoteName: remoteName, includes: includes, label: label, allowedExits: allowedExits,
      capture: capture, variables: variables, verbose: verbose, timeout: timeout, stdin: stdin, keepScript: keepScript)
  }

  /// Creates the command with an array of arguments.
  public init(
    body: String, args: [String], remoteName: String? = nil, includes: [String] = [], label: String? = nil,
    allowedExits: [AllowedExit] = [], capture: Capture? = nil, variables: Variables? = nil, verbose: Bool = false,
    timeout: Duration? = nil, stdin: CommandInput = .none, keepScript: Bool = false
  ) {
    self.body = body
    self.args = args
    self.remoteName = remoteName
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
      source: .body(body), name: remoteName.map(baseName) ?? "script", args: args, includes: includes,
      capture: capture, variables: variables, stdin: stdin, kind: "RunString",
      keep: keepScript)
  }

  /// `RunString: <first meaningful line, cut at 15 characters> <args>`.
  public var labelLine: String {
    let first = body.split(separator: "\n").lazy
      .map { $0.trimmingCharacters(in: " \t\r") }
      .first { !$0.isEmpty && !$0.hasPrefix("#") }
    let shown: String
    if let first {
      shown = first.count > 15 ? String(first.prefix(15)) + "..." : first
    } else {
      shown = "??? empty body ???"
    }
    return "RunString: \(shown) \(script.argsLine)"
  }

  /// Installs and runs the script.
  public func run(in context: CommandContext) async throws -> ExitStatus {
    try await script.run(in: context)
  }
}
