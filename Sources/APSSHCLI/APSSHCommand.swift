import ArgumentParser
import Foundation
import Inventory
import SshJobs

#if canImport(Glibc)
  import Glibc
#endif

/// `apssh`: run a command (or a scenario file) on many hosts in parallel over SSH.
struct APSSHCommand: ToolCommand {
  static let configuration = CommandConfiguration(
    commandName: "apssh",
    abstract: "Run a command on many hosts in parallel over SSH.",
    discussion: """
      Exit codes: 0 every host (every job) succeeded; 1 some command failed (non-zero status, killed, \
      timed out) or output could not be written; 2 usage or input error; 3 some host could not be \
      reached or logged into (others may have failed too); 128+n stopped by signal n (130 Ctrl-C, \
      143 SIGTERM, 129 SIGHUP, 141 stdout closed). With --max-rc, the largest remote status instead. \
      With --json, one JSON document is printed on stdout at the end, with each host's output in its \
      record (or in files with -o/-d).
      """)

  @OptionGroup var targetOptions: TargetOptions
  @OptionGroup var connection: ConnectionOptions
  @OptionGroup var output: OutputOptions
  @OptionGroup var result: ResultOptions

  @Flag(name: [.customShort("r"), .customLong("raw-format")], help: "Print lines as they are, without the host name.")
  var raw = false

  @Flag(name: [.customShort("L"), .customLong("list-targets")], help: "Print the targets and exit.")
  var listTargets = false

  @Flag(
    name: [.customShort("m"), .customLong("mark")],
    help: "With -o/-d: write DIR/0ok/<host> and DIR/1failed/<host> files.")
  var mark = false

  @Flag(
    name: [.customShort("n"), .customLong("dry-run")],
    help: "Print the excluded and selected targets (or, with -S, the job listing) and exit.")
  var dryRun = false

  @Flag(name: [.customShort("V"), .customLong("version")], help: "Print the version and exit.")
  var version = false

  @Flag(
    name: [.customShort("s"), .customLong("script")],
    help: "The first command word is a local script (it must exist) to copy and run with the other words as arguments.")
  var script = false

  @Option(
    name: .customLong("script-body"), parsing: .unconditional,
    help: ArgumentHelp(
      "Copy and run this text as a script, with the command words as its arguments (instead of -s).",
      valueName: "TEXT"))
  var scriptBody: String?

  @Option(
    name: [.customShort("i"), .customLong("includes")],
    help: ArgumentHelp(
      "With -s or --script-body: a local file pushed next to the script (repeatable).", valueName: "FILE"))
  var includes: [String] = []

  @Flag(
    name: .customLong("keep-scripts"),
    help: "With -s or --script-body: leave the script in ~/.apssh-remote/ on each host (removed by default).")
  var keepScripts = false

  @Flag(
    name: .customLong("stdin"),
    help:
      "Send the local standard input to the command on every host (read once, streamed; without it, remote commands read end-of-file)."
  )
  var forwardStdin = false

  @Option(
    name: [.customShort("S"), .customLong("scenario")],
    help: ArgumentHelp("Run a YAML scenario file instead of a command.", valueName: "FILE"))
  var scenario: String?

  @Option(
    name: .customLong("var"),
    help: ArgumentHelp("A scenario variable, {{ NAME }} in the file (repeatable).", valueName: "NAME=VALUE"))
  var variables: [String] = []

  @Option(
    name: .customLong("graph"),
    help: ArgumentHelp("With -S: write the job graph (.svg, .png, .dot).", valueName: "FILE"))
  var graph: String?

  @Argument(parsing: .postTerminator, help: "The remote command (its words are joined with spaces).")
  var commands: [String] = []

  /// Usage errors, found before anything runs (exit 2).
  func validate() throws {
    if version { return }
    if scenario == nil && !variables.isEmpty { throw ValidationError("--var only goes with a scenario (-S FILE)") }
    if scenario == nil && graph != nil { throw ValidationError("--graph draws a scenario: it goes with -S FILE") }
    if scenario != nil && forwardStdin {
      throw ValidationError("--stdin goes with a command, not with a scenario (-S)")
    }
    if script && scriptBody != nil {
      throw ValidationError("-s (a local script) and --script-body (a script text) exclude each other")
    }
    let scripted = script || scriptBody != nil
    if scenario != nil && (scripted || !includes.isEmpty || keepScripts) {
      throw ValidationError("-s, --script-body, -i and --keep-scripts go with a command, not with a scenario (-S)")
    }
    if !scripted && !includes.isEmpty {
      throw ValidationError(
        "-i \(includes[0]): include files are pushed next to a script: they go with -s SCRIPT or --script-body TEXT")
    }
    if !scripted && keepScripts { throw ValidationError("--keep-scripts goes with -s SCRIPT or --script-body TEXT") }
    if mark && output.outDir == nil && !output.dateTime {
      throw ValidationError("--mark needs an output directory (-o DIR or -d)")
    }
    do {
      try output.checkCombinations(raw: raw ? "-r" : nil)
      _ = try Self.parseVariables(variables)
    } catch {
      throw ValidationError(error.message)
    }
  }

  /// Runs the command; returns the exit code.
  func execute(_ environment: CLIEnvironment) async throws -> Int32 {
    let console = Console(sink: environment.sink)
    if version {
      console.out("apssh version \(APSSHVersion.current)")
      return ExitCodes.success
    }
    let settings = try connection.runSettings(login: targetOptions.login)
    if let scenario { return try await runScenario(scenario, settings: settings, environment: environment) }
    let words = Arguments.command(commands)
    if !dryRun && !listTargets && words.isEmpty && scriptBody == nil {
      throw CLIError("You must provide a command to be run remotely (or a scenario with -S FILE)")
    }
    let selection = try TargetSelection(targetOptions)
    if dryRun {
      console.out("========== \(selection.excludes.count) excludes found:")
      for target in selection.excludes { console.out(target.description) }
      console.out("========== \(selection.targets.count) hostnames selected (\(selection.excludedCount) excluded):")
      for target in selection.targets { console.out(target.description) }
      return ExitCodes.success
    }
    guard !selection.targets.isEmpty else {
      throw CLIError(selection.nothingSelectedMessage)
    }
    if listTargets {
      for target in selection.targets { console.out(target.description) }
      return ExitCodes.success
    }
    try await connection.checkFiles(nodes: selection.targets.map(\.nodeSpec), settings: settings, requireKey: true)
    let command = try makeCommand(words)
    let jobs = selection.targets.map { target in
      JobSpec(name: target.description, node: target.nodeSpec, commands: [command], critical: result.failFast)
    }
    return try await ToolRun(
      tool: "apssh", commandLine: words.joined(separator: " "), spec: RunSpec(label: "apssh", jobs: jobs),
      settings: settings, output: output, result: result, raw: raw, mark: mark, scenario: nil, environment: environment
    ).run()
  }

  /// `-S FILE`: the scenario's run, listing (`-n`) or graph.
  private func runScenario(_ path: String, settings: RunSettings, environment: CLIEnvironment) async throws -> Int32 {
    let resolver = try TargetSelection.resolver(targetOptions)
    var spec = try ScenarioFile.load(path: path, variables: try Self.parseVariables(variables), resolver: resolver)
    if result.failFast {
      for index in spec.jobs.indices { spec.jobs[index].critical = true }
    }
    let run = ToolRun(
      tool: "apssh", commandLine: "-S \(path)", spec: spec, settings: settings, output: output, result: result,
      raw: raw, mark: mark,
      scenario: ToolRun.ScenarioDisplay(path: path), environment: environment)
    if let graph {
      try await run.drawGraph(to: graph)
      if !dryRun { Console(sink: environment.sink).err("graph written to \(graph)") }
    }
    if dryRun { return try run.list() }
    try await connection.checkFiles(nodes: spec.jobs.map(\.node), settings: settings, requireKey: false)
    return try await run.run()
  }

  private func makeCommand(_ words: [String]) throws -> any Command {
    for include in includes { try Self.checkReadableFile(include, option: "-i", what: "file to include") }
    if script { try Self.checkReadableFile(Self.scriptPath(words[0]), option: "-s", what: "local script") }
    let stdin = forwardStdin ? try SharedInput.standardInput().input : .none
    if let scriptBody {
      return RunString(
        body: scriptBody, args: words, includes: includes, verbose: output.debug, stdin: stdin,
        keepScript: keepScripts)
    }
    guard script else { return Run(argv: words, verbose: output.debug, stdin: stdin) }
    return RunScript(
      localPath: Self.scriptPath(words[0]), args: Array(words.dropFirst()), includes: includes, verbose: output.debug,
      stdin: stdin,
      keepScript: keepScripts)
  }

  /// The local script of `-s` (`~` expanded).
  static func scriptPath(_ word: String) -> String { HomeDirectory.expandingTilde(in: word) }

  /// A local file given to `-s` or `-i` must be a readable regular file (a usage error, exit 2):
  /// a mistyped script name must not run as anything.
  static func checkReadableFile(_ path: String, option: String, what: String) throws(CLIError) {
    var info = stat()
    guard stat(path, &info) == 0 else {
      let hint = option == "-s" ? " (to run a script given as text, use --script-body TEXT)" : ""
      throw CLIError("\(option) \(path): no such \(what)\(hint)")
    }
    guard info.st_mode & S_IFMT == S_IFREG else {
      throw CLIError("\(option) \(path): not a regular file (a \(what) is expected)")
    }
    guard access(path, R_OK) == 0 else {
      throw CLIError("\(option) \(path): cannot read the \(what): \(String(cString: strerror(errno)))")
    }
  }

  /// `NAME=VALUE` pairs.
  static func parseVariables(_ pairs: [String]) throws(CLIError) -> [String: String] {
    var result: [String: String] = [:]
    for pair in pairs {
      guard let equal = pair.firstIndex(of: "="), equal != pair.startIndex else {
        throw CLIError("--var expects NAME=VALUE, got '\(pair)'")
      }
      let name = String(pair[..<equal])
      guard Template.isName(name) else {
        throw CLIError("--var \(pair): '\(name)' is not a variable name (letters, digits, _)")
      }
      result[name] = String(pair[pair.index(after: equal)...])
    }
    return result
  }
}
