import Foundation
import Inventory
import SshJobs

/// `apssh -S FILE`: turns a `Scenario` into a scheduler of `SshJob`s and runs it (or lists it with
/// `--dry-run`, or draws it with `--graph`).
///
/// Nodes become `SshNode`s (their `key:` else `-k`, `-l` for a missing `username:`, the gateway by
/// node id) or `LocalNode`s; a job on a node is one `SshJob`; a job on `@group` or a range is one
/// `SshJob` per host, labelled `id@host`, and a job requiring it requires all of them. Jobs are
/// critical unless they say `critical: false`; the scheduler gets the scenario's `window` (else
/// `-w`) and `timeout`.
struct ScenarioRunner {
  let path: String
  let variables: [String: String]
  let targetOptions: TargetOptions
  let settings: ConnectionSettings
  let output: OutputOptions
  let raw: Bool
  let environment: CLIEnvironment

  /// Runs; returns the exit code (0 when the scheduler succeeded, 1 otherwise, 130 interrupted).
  /// With `--json`, the listing and debrief go to stderr and stdout holds one record per job.
  func run(dryRun: Bool, graph: String?) async throws -> Int32 {
    let console = Console(sink: environment.sink)
    let scenario = try Scenario.load(path: path, variables: variables)
    let showProgress = environment.stderrIsTerminal && !output.noProgress && !dryRun
    let progress = showProgress ? ProgressLine(inner: environment.sink, tool: "apssh", total: 0) : nil
    let sink: any OutputSink = progress ?? environment.sink
    let mode = OutputMode(output, raw: raw, sink: sink)
    let (scheduler, jobs) = try build(scenario, mode: mode, sink: sink)
    progress?.setTotal(jobs.count)
    if let graph {
      do {
        try await scheduler.exportGraphic(to: graph)
      } catch {
        throw CLIError("cannot write the graph to \(graph): \(error)")
      }
    }
    if dryRun {
      console.out(scheduler.list(details: output.verbose), terminator: "")
      return ExitCodes.success
    }
    let printer = Console(sink: sink)
    if let graph { printer.err("graph written to \(graph)") }
    let runner = HostRun(tool: "apssh", environment: environment, console: printer, progress: progress)
    let run = await runner.run(scheduler)
    mode.subdir?.closeFiles()
    let code =
      run.interrupted ? ExitCodes.interrupted : run.succeeded ? ExitCodes.success : ExitCodes.failure
    let listing = "========== \(scenario.path ?? path): \(scheduler.count) job(s)\n" + scheduler.list()
    if output.json {
      console.err(listing, terminator: "")
      let outcomes = jobs.map { job in
        let time = run.times[ObjectIdentifier(job)]
        return HostOutcome(target: job.effectiveLabel, node: job.node, job: job, start: time?.start, end: time?.end)
      }
      let report = JSONReport(
        tool: "apssh", command: "-S \(path)", exitCode: code, interrupted: run.interrupted,
        hosts: JSONReport.hosts(outcomes, collector: mode.collector, jobLabels: true))
      console.write(report.encoded(), to: .stdout)
    } else {
      console.out(listing, terminator: "")
    }
    if run.interrupted {
      console.err("apssh: interrupted - jobs cancelled, connections closed")
    } else if !run.succeeded {
      console.err(scheduler.debrief(), terminator: "")
    }
    return code
  }

  /// The scheduler of the scenario's jobs, and the jobs in file order.
  func build(_ scenario: Scenario, mode: OutputMode, sink: any OutputSink) throws -> (Scheduler, [SshJob]) {
    let shared = mode.formatter
    var named: [String: any OutputFormatter] = [:]
    /// A node's `formatter:` class name, one shared instance per name, unless --json or -o/-d take the output.
    func formatter(for node: Scenario.Node) throws -> any OutputFormatter {
      guard let name = node.formatter, mode.collector == nil, mode.subdir == nil else { return shared }
      if let known = named[name] { return known }
      let verbose = output.verbose || output.debug
      let made: any OutputFormatter
      switch name {
      case "HostFormatter": made = HostFormatter(verbose: verbose, sink: sink)
      case "TimeHostFormatter": made = TimeHostFormatter(verbose: verbose, sink: sink)
      case "RawFormatter": made = RawFormatter(verbose: verbose, sink: sink)
      default:
        throw InventoryError(
          .badValue, "unknown formatter '\(name)'; use HostFormatter, TimeHostFormatter or RawFormatter",
          file: scenario.path, line: node.line, key: "formatter")
      }
      named[name] = made
      return made
    }
    let resolver = try TargetSelection.resolver(targetOptions)
    let user = resolver.defaultUser ?? SshConfiguration.localUsername
    let hostsByJob = try scenario.hostsByJob(resolver: resolver)
    var nodes: [String: any CommandNode] = [:]
    // A node's gateway is built first, wherever it is declared in the file.
    func build(_ node: Scenario.Node, visiting: Set<String>) throws -> any CommandNode {
      if let built = nodes[node.id] { return built }
      let made: any CommandNode
      switch node.kind {
      case .local:
        made = LocalNode(formatter: try formatter(for: node))
      case .ssh(let ssh):
        var gateway: SshNode?
        if let id = ssh.gateway {
          guard !visiting.contains(id) else {
            throw InventoryError(
              .badValue, "gateway loop through node '\(id)'", file: scenario.path, line: node.line, key: "gateway")
          }
          guard let declared = scenario.node(id),
            let ssh = try build(declared, visiting: visiting.union([node.id])) as? SshNode
          else {
            throw InventoryError(
              .badValue, "gateway '\(id)' must be an SSH node", file: scenario.path, line: node.line, key: "gateway")
          }
          gateway = ssh
        }
        made = SshNode(
          hostname: ssh.hostname, username: ssh.username ?? user, port: ssh.port ?? 22,
          keys: ssh.key.map { [$0] } ?? settings.keys, gateway: gateway, formatter: try formatter(for: node),
          hostKeyPolicy: settings.hostKeyPolicy, connectTimeout: settings.connectTimeout,
          knownHostsPath: settings.knownHostsPath, useAgent: settings.keys == nil && ssh.key == nil)
      }
      nodes[node.id] = made
      return made
    }
    for node in scenario.nodes { _ = try build(node, visiting: []) }
    let factory = NodeFactory(settings: settings, formatter: shared)
    let runtimeVariables = Variables()
    var jobsById: [String: [SshJob]] = [:]
    var all: [SshJob] = []
    for job in scenario.jobs {
      let commands = job.commands.map { command(for: $0, job: job, variables: runtimeVariables) }
      let requirements = job.required.flatMap { jobsById[$0] ?? [] }
      var placed: [(any CommandNode, String?)] = []
      switch job.target {
      case .node(let id):
        guard let node = nodes[id] else {
          throw InventoryError(.unknownNode, "unknown node '\(id)'", file: scenario.path, line: job.line, key: "node")
        }
        placed = [(node, job.label ?? job.id)]
      case .hosts:
        placed = (hostsByJob[job.id] ?? []).map { target in
          (factory.node(for: target), "\(job.label ?? job.id)@\(target.hostname)")
        }
      }
      let made = placed.map { node, label in
        let made = SshJob(
          node: node, commands: commands, label: label, critical: job.critical ?? true, forever: job.forever,
          requires: requirements, verbose: job.verbose ? true : nil)
        made.timeout = job.timeout
        return made
      }
      jobsById[job.id] = made
      all += made
    }
    let scheduler = Scheduler(
      all, jobsWindow: scenario.window ?? settings.window, timeout: scenario.timeout, critical: false,
      label: (path as NSString).lastPathComponent)
    return (scheduler, all)
  }

  private func command(for command: Scenario.Command, job: Scenario.Job, variables: Variables) -> any Command {
    func exits(_ options: Scenario.RunOptions) -> [AllowedExit] {
      options.allowedExits.map { exit in
        switch exit {
        case .status(let code): return .code(Int32(code))
        case .signal(let name): return .signal(name)
        }
      }
    }
    func capture(_ options: Scenario.RunOptions) -> Capture? { options.capture.map { Capture($0, in: variables) } }
    switch command {
    case .run(let run):
      return Run(
        argv: [run.commandLine], label: run.label, allowedExits: exits(run.options), capture: capture(run.options),
        variables: variables, verbose: run.verbose || job.verbose)
    case .runScript(let script):
      return RunScript(
        localPath: script.script, args: script.args, includes: script.includes, label: script.label,
        allowedExits: exits(script.options), capture: capture(script.options), variables: variables,
        verbose: script.verbose || job.verbose)
    case .runString(let string):
      return RunString(
        body: string.body, args: string.args, remoteName: string.remoteName, includes: string.includes,
        label: string.label, allowedExits: exits(string.options), capture: capture(string.options),
        variables: variables, verbose: string.verbose || job.verbose)
    case .push(let push):
      return Push(
        localPaths: push.localPaths, remotePath: push.remotePath, recursive: push.recursive, preserve: push.preserve,
        label: push.label, verbose: push.verbose || job.verbose)
    case .pull(let pull):
      return Pull(
        remotePaths: pull.remotePaths, localPath: pull.localPath, recursive: pull.recursive, preserve: pull.preserve,
        label: pull.label, verbose: pull.verbose || job.verbose)
    }
  }
}
