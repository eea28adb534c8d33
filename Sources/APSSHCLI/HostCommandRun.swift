import Foundation
import Inventory
import SshJobs

/// The common body of apssh, appush and appull: one job per selected host running a command made
/// for that host, then the output directory line, `--mark` files, failures on stderr, the JSON
/// document, and the exit code.
struct HostCommandRun {
  let tool: String
  let commandLine: String
  let selection: TargetSelection
  let settings: ConnectionSettings
  let output: OutputOptions
  let raw: Bool
  let mark: Bool
  let environment: CLIEnvironment

  /// Runs `command(target)` on every target; returns the exit code. `command` gets a
  /// `RemoteProcessGroup` to wrap its remote command line with, when it has one (see that type).
  func run(command: (Target, RemoteProcessGroup) throws -> any Command) async rethrows -> Int32 {
    let console = Console(sink: environment.sink)
    let showProgress = environment.stderrIsTerminal && !output.noProgress
    let progress = showProgress ? ProgressLine(inner: environment.sink, tool: tool, total: selection.targets.count) : nil
    let sink: any OutputSink = progress ?? environment.sink
    let mode = OutputMode(output, raw: raw, sink: sink)
    let factory = NodeFactory(settings: settings, formatter: mode.formatter)
    var items: [(target: Target, node: SshNode, job: SshJob)] = []
    for target in selection.targets {
      let node = factory.node(for: target)
      let group = RemoteProcessGroup()
      let inner = try command(target, group)
      let guarded = GuardedCommand(
        inner: inner, attempts: settings.attempts, retryDelay: .seconds(1), timeout: settings.commandTimeout,
        processGroup: inner is Run ? group : nil)
      items.append((target, node, SshJob(node: node, command: guarded, critical: false)))
    }
    let printer = Console(sink: sink)
    if output.verbose { printer.err("\(tool) is working on \(items.count) nodes") }
    if output.debug { for item in items { printer.err("using target \(item.node.description)") } }
    let run = HostRun(tool: tool, environment: environment, console: printer, progress: progress)
    let (outcomes, interrupted) = await run.run(items, window: settings.window)
    mode.subdir?.closeFiles()
    if let subdir = mode.subdir {
      if mark { writeMarks(outcomes, in: subdir.directory) }
      if !output.json { console.out(subdir.directory) }
    }
    run.report(outcomes, interrupted: interrupted)
    if output.debug {
      for outcome in outcomes { console.err("DEBUG: PROXY \(outcome.node.hostname) -> \(outcome.mark) (\(outcome.node))") }
    }
    let code = HostRun.exitCode(outcomes, interrupted: interrupted)
    if output.json {
      let report = JSONReport(
        tool: tool, command: commandLine, exitCode: code, interrupted: interrupted,
        hosts: JSONReport.hosts(outcomes, collector: mode.collector))
      console.write(report.encoded(), to: .stdout)
    }
    return code
  }

  /// `DIR/0ok/<host>` holding `0`, `DIR/1failed/<host>` holding the status, signal or `None`.
  private func writeMarks(_ outcomes: [HostOutcome], in directory: String) {
    let manager = FileManager.default
    for outcome in outcomes {
      let folder = (directory as NSString).appendingPathComponent(outcome.succeeded ? "0ok" : "1failed")
      try? manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
      let file = (folder as NSString).appendingPathComponent(outcome.node.hostname)
      try? Data((outcome.mark + "\n").utf8).write(to: URL(fileURLWithPath: file))
    }
  }
}
