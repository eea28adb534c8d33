import Foundation
import Inventory
import SshJobs

/// What apssh, appush and appull do once their input is a `RunSpec`: run it through the
/// `Runner` with the output options (formatters, live progress line, Ctrl-C), then render the
/// outcomes (output directory, `--mark` files, failures, the scenario listing, `--json`) and
/// return the exit code. The only place where a run meets the terminal.
struct ToolRun {
  /// How a scenario run is shown besides the hosts' output.
  struct ScenarioDisplay {
    /// The file, as given.
    var path: String
  }

  let tool: String
  /// The command as shown in the JSON document (`uname -a`, `-S file`, the copy's paths).
  let commandLine: String
  let spec: RunSpec
  let settings: RunSettings
  let output: OutputOptions
  let raw: Bool
  let mark: Bool
  let scenario: ScenarioDisplay?
  let environment: CLIEnvironment

  /// The runner of `spec`, built with the output options' formatters (to list or draw it too).
  func makeRunner(mode: OutputMode) throws -> Runner {
    do {
      return try Runner(spec: spec, settings: settings) { mode.formatter(for: $0) }
    } catch let error as RunSpecError {
      throw CLIError(locate(error))
    }
  }

  /// A run spec error with the scenario file it is about.
  private func locate(_ error: RunSpecError) -> String {
    guard let scenario, error.location?.file == nil else { return error.description }
    return "\(scenario.path): \(error)"
  }

  /// Lists the jobs (`--dry-run`) without running them.
  func list() throws -> Int32 {
    let mode = OutputMode(output, raw: raw, sink: environment.sink)
    let runner = try makeRunner(mode: mode)
    Console(sink: environment.sink).out(runner.scheduler.list(details: output.verbose), terminator: "")
    return ExitCodes.success
  }

  /// Writes the job graph of the run to `path` (`.svg`, `.png`, `.dot`).
  func drawGraph(to path: String) async throws {
    let mode = OutputMode(output, raw: raw, sink: environment.sink)
    let runner = try makeRunner(mode: mode)
    do {
      try await runner.scheduler.exportGraphic(to: path)
    } catch {
      throw CLIError("cannot write the graph to \(path): \(error)")
    }
  }

  /// Runs, renders, and returns the exit code.
  func run() async throws -> Int32 {
    let console = Console(sink: environment.sink)
    let showProgress = environment.stderrIsTerminal && !output.noProgress
    let progress = showProgress ? ProgressLine(inner: environment.sink, tool: tool, total: spec.jobs.count) : nil
    let sink: any OutputSink = progress ?? environment.sink
    let printer = Console(sink: sink)
    let mode = OutputMode(output, raw: raw, sink: sink)
    let runner = try makeRunner(mode: mode)
    if scenario == nil {
      if output.verbose { printer.err("\(tool) is working on \(runner.jobs.count) nodes") }
      if output.debug { for job in runner.jobs { printer.err("using target \(job.node.description)") } }
    }

    progress?.startTicking()
    let task = Task {
      await runner.run { event in
        switch event {
        case .started: progress?.started()
        case .ended(_, let succeeded): progress?.ended(failed: !succeeded)
        }
      }
    }
    let watcher = environment.handlesSignals ? InterruptWatcher { task.cancel() } : nil
    let outcome = await withTaskCancellationHandler {
      await task.value
    } onCancel: {
      task.cancel()
    }
    watcher?.stop()
    progress?.finish()
    mode.subdir?.closeFiles()

    let code = Self.exitCode(outcome)
    if let subdir = mode.subdir {
      if mark { writeMarks(outcome, in: subdir.directory) }
      if !output.json { console.out(subdir.directory) }
    }
    if let scenario {
      let listing = "========== \(scenario.path): \(runner.scheduler.count) job(s)\n" + runner.scheduler.list()
      if output.json { console.err(listing, terminator: "") } else { console.out(listing, terminator: "") }
    }
    report(outcome, console: console)
    if output.debug {
      for job in outcome.jobs {
        console.err("DEBUG: PROXY \(job.hostname) -> \(Self.mark(job)) (\(job.username)@\(job.hostname))")
      }
    }
    if output.json {
      let report = JSONReport(
        tool: tool, command: commandLine, exitCode: code, interrupted: outcome.interrupted,
        hosts: JSONReport.records(outcome, collector: mode.collector, jobLabels: scenario != nil))
      console.write(report.encoded(), to: .stdout)
    }
    return code
  }

  /// 130 when interrupted, 0 when every job succeeded, 1 otherwise.
  static func exitCode(_ outcome: RunOutcome) -> Int32 {
    if outcome.interrupted { return ExitCodes.interrupted }
    return outcome.succeeded ? ExitCodes.success : ExitCodes.failure
  }

  /// On stderr: one line per job without a result, why a scenario failed, the summary of an
  /// interrupted run.
  private func report(_ outcome: RunOutcome, console: Console) {
    for job in outcome.jobs where job.exitStatus == nil {
      switch job.status {
      case .error(let message):
        console.err("\(nodeText(job)): \(tool) WARNING - no result ! (\(message))")
      case .skipped where !outcome.interrupted && scenario == nil:
        console.err("\(nodeText(job)): \(tool) WARNING - no result ! (not run)")
      default:
        break
      }
    }
    if scenario != nil && !outcome.interrupted {
      for job in outcome.jobs where job.status != .ok && job.exitStatus != nil {
        console.err("\(job.label): \(Self.describe(job.status))")
      }
      if outcome.timedOut, let timeout = spec.timeout {
        console.err("\(tool): the scenario took too long (timeout \(timeout))")
      }
    }
    if outcome.interrupted {
      let ok = outcome.jobs.filter(\.succeeded).count
      let cancelled = outcome.jobs.filter { $0.status == .cancelled || $0.status == .skipped }.count
      let noun = scenario == nil ? "host(s)" : "job(s)"
      console.err(
        "\(tool): interrupted - \(ok) \(noun) ok, \(outcome.jobs.count - ok - cancelled) failed, \(cancelled) cancelled;"
          + " connections closed")
    }
  }

  private func nodeText(_ job: JobOutcome) -> String {
    job.spec.node.kind == .local ? job.hostname : "\(job.username)@\(job.hostname)"
  }

  /// `exit 3`, `killed by SIGTERM`, or the error.
  static func describe(_ status: JobOutcome.Status) -> String {
    switch status {
    case .ok: return "ok"
    case .failed(.code(let code)): return "exit \(code)"
    case .failed(.signal(let name)): return "killed by SIG\(name)"
    case .error(let message): return message
    case .cancelled: return "cancelled"
    case .skipped: return "not run"
    }
  }

  /// The mark of `--mark` files: `0`, `1`, `SIGTERM`, or `None` without a result.
  static func mark(_ job: JobOutcome) -> String {
    switch job.exitStatus {
    case .code(let code)?: return String(code)
    case .signal(let name)?: return "SIG" + name
    case nil: return "None"
    }
  }

  /// `DIR/0ok/<host>` holding `0`, `DIR/1failed/<host>` holding the status, signal or `None`.
  private func writeMarks(_ outcome: RunOutcome, in directory: String) {
    let manager = FileManager.default
    for job in outcome.jobs {
      let folder = (directory as NSString).appendingPathComponent(job.succeeded ? "0ok" : "1failed")
      try? manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
      let file = (folder as NSString).appendingPathComponent(job.hostname)
      try? Data((Self.mark(job) + "\n").utf8).write(to: URL(fileURLWithPath: file))
    }
  }
}
