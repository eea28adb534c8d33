import Foundation
import Inventory
import SshJobs
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// What apssh, appush and appull do once their input is a `RunSpec`: run it through the
/// `Runner` with the output options (formatters, live progress line, signals), then render the
/// outcomes (output directory, `--mark` files, the scenario listing, `--json`, failures) and
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
  let result: ResultOptions
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
    guard let file = error.location?.file ?? scenario?.path else { return error.description }
    return "\(file): \(error)"
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
    let progress =
      showProgress
      ? ProgressLine(
        inner: environment.sink, tool: tool, total: spec.jobs.count, columns: environment.terminalColumns)
      : nil
    let sink: any OutputSink = progress ?? environment.sink
    let printer = Console(sink: sink)
    let mode = OutputMode(output, raw: raw, sink: sink)
    for warning in output.warnings { console.err("\(tool): warning: \(warning)") }
    if let subdir = mode.subdir { try prepare(directory: subdir.directory) }
    let runner = try makeRunner(mode: mode)
    // Once the runner has registered every host: clear what this run owns in the directory.
    if let subdir = mode.subdir { try prepare(subdir) }
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
    // A signal, or stdout's reader going away (`| head`), stops the run as Ctrl-C does.
    let stop = StopReason()
    let watcher =
      environment.handlesSignals
      ? SignalWatcher {
        stop.set($0); task.cancel()
      } : nil
    let standard = environment.sink as? StandardOutputSink
    standard?.onBrokenPipe {
      stop.set(SIGPIPE); task.cancel()
    }
    let outcome = await withTaskCancellationHandler {
      await task.value
    } onCancel: {
      task.cancel()
    }
    watcher?.stop()
    standard?.onBrokenPipe(nil)
    progress?.finish()
    mode.subdir?.closeFiles()
    let signal = stop.signal
    // Nobody reads stdout any more: nothing else to show, only to stop and say so by the code.
    if signal == SIGPIPE { return 128 + SIGPIPE }

    if let subdir = mode.subdir {
      if mark { writeMarks(outcome, into: subdir) }
      if !output.json { console.out(subdir.directory) }
    }
    if let scenario {
      let listing = "========== \(scenario.path): \(runner.scheduler.count) job(s)\n" + runner.scheduler.list()
      if output.json { console.err(listing, terminator: "") } else { console.out(listing, terminator: "") }
    }
    if output.json {
      let report = JSONReport(
        tool: tool, command: commandLine, exitCode: exitCode(outcome, signal: signal, writeFailures: false),
        interrupted: outcome.interrupted,
        hosts: JSONReport.records(outcome, collector: mode.collector, jobLabels: scenario != nil))
      console.write(report.encoded(), to: .stdout)
    }
    if output.debug {
      for job in outcome.jobs {
        console.err("DEBUG: PROXY \(job.hostname) -> \(Self.mark(job)) (\(job.username)@\(job.hostname))")
      }
    }
    report(outcome, signal: signal, console: console)
    // What could not be written, once per stream or file.
    let failures = environment.sink.writeFailures + (mode.subdir?.failures ?? [])
    for failure in failures { console.err("\(tool): \(failure)") }
    return exitCode(outcome, signal: signal, writeFailures: !failures.isEmpty)
  }

  /// The exit code: 128 + n after signal n; the largest remote status with `--max-rc`; else 0 when
  /// every job succeeded and all output was written, 3 when some host was not reached, 1 otherwise.
  func exitCode(_ outcome: RunOutcome, signal: Int32?, writeFailures: Bool) -> Int32 {
    if let signal { return 128 + signal }
    if outcome.interrupted { return ExitCodes.interrupted }
    if result.maxRC {
      let statuses = outcome.jobs.map { job -> Int32 in
        if let status = job.exitStatus { return status.shellStatus }
        if job.isUnreachable { return 255 }
        return job.succeeded ? 0 : 1
      }
      return max(statuses.max() ?? 0, writeFailures || outcome.timedOut ? 1 : 0)
    }
    if outcome.succeeded && !writeFailures { return ExitCodes.success }
    return outcome.jobs.contains(where: \.isUnreachable) ? ExitCodes.unreachable : ExitCodes.failure
  }

  /// `-o DIR` or `-d (DIR)`, as errors name the directory.
  private func directoryOption(_ directory: String) -> String {
    output.outDir != nil ? "-o \(directory)" : "-d (\(directory))"
  }

  /// `-o DIR`: made now (with its parents), or a usage error naming what is in the way.
  private func prepare(directory: String) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
      guard isDirectory.boolValue else {
        throw CLIError("\(directoryOption(directory)): not a directory (a file is in the way)")
      }
      return
    }
    do {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    } catch {
      throw CLIError(
        "\(directoryOption(directory)): cannot create the directory: \((error as NSError).localizedDescription)")
    }
  }

  /// Removes the files of this run's hosts and the marks left in the directory by a previous run
  /// (other files stay), or a usage error naming what is in the way (a link, a directory).
  private func prepare(_ subdir: SubdirFormatter) throws {
    do {
      try subdir.prepare()
    } catch {
      throw CLIError("\(directoryOption(subdir.directory)): \(error)")
    }
  }

  /// On stderr, after the output: one line per kind of failure with the hosts (or jobs) it hit,
  /// folded (`127.0.0.[3-5] (3): exit 3`), the run's timeout, the summary of a stopped run.
  private func report(_ outcome: RunOutcome, signal: Int32?, console: Console) {
    guard !outcome.interrupted else {
      let ok = outcome.jobs.filter(\.succeeded).count
      let cancelled = outcome.jobs.filter { $0.status == .cancelled || $0.status == .skipped }.count
      let noun = scenario == nil ? "host(s)" : "job(s)"
      let what = signal.map(Self.signalName) ?? "interrupted"
      console.err(
        "\(tool): \(what) - \(ok) \(noun) ok, \(outcome.jobs.count - ok - cancelled) failed, \(cancelled) cancelled;"
          + " remote commands stopped, connections closed")
      return
    }
    var groups: [(reason: String, names: [String])] = []
    for job in outcome.failures {
      let reason = Self.describe(job)
      let name = scenario == nil ? job.displayName : job.label
      if let index = groups.firstIndex(where: { $0.reason == reason }) {
        groups[index].names.append(name)
      } else {
        groups.append((reason, [name]))
      }
    }
    for group in groups {
      let names = scenario == nil ? HostRange.fold(group.names) : group.names
      let count = group.names.count > 1 ? " (\(group.names.count))" : ""
      console.err("\(names.joined(separator: ", "))\(count): \(group.reason)")
    }
    if outcome.timedOut, let timeout = spec.timeout {
      console.err("\(tool): the run took too long (timeout \(timeout.compactDescription))")
    }
  }

  /// `interrupted` (SIGINT), `terminated (SIGTERM)`, `hung up (SIGHUP)`, else the number.
  static func signalName(_ signal: Int32) -> String {
    switch signal {
    case SIGINT: return "interrupted"
    case SIGTERM: return "terminated (SIGTERM)"
    case SIGHUP: return "hung up (SIGHUP)"
    default: return "stopped by signal \(signal)"
    }
  }

  /// Why a job failed, in a few words: `exit 3`, `killed by SIGTERM`, `unreachable: …`.
  static func describe(_ job: JobOutcome) -> String {
    if job.isUnreachable, let error = job.error as? SshError {
      let login = [.authenticationFailed, .hostKeyMismatch, .hostKeyUnknown].contains(error.code)
      return "\(login ? "cannot log in" : "unreachable"): \(error.message)"
    }
    if case .error = job.status, let error = job.error as? SshError { return error.message }
    return describe(job.status)
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

  /// `DIR/0ok/<host>` holding `0`, `DIR/1failed/<host>` holding the status, signal or `None`: one
  /// mark per host (in a scenario, a host with a failed job is failed, with its first failure's
  /// mark); both directories exist afterwards. Files that cannot be written are told with the
  /// output files.
  private func writeMarks(_ outcome: RunOutcome, into subdir: SubdirFormatter) {
    var hosts: [String] = []
    var marks: [String: (succeeded: Bool, mark: String)] = [:]
    for job in outcome.jobs {
      if let known = marks[job.displayName] {
        if known.succeeded && !job.succeeded { marks[job.displayName] = (false, Self.mark(job)) }
      } else {
        hosts.append(job.displayName)
        marks[job.displayName] = (job.succeeded, Self.mark(job))
      }
    }
    subdir.writeMarks(
      hosts.compactMap { host in marks[host].map { (host, $0.succeeded, $0.mark + "\n") } })
  }
}

/// The first reason a run was stopped: a signal number (SIGPIPE for a closed stdout).
final class StopReason: Sendable {
  private let value = Mutex<Int32?>(nil)
  func set(_ signal: Int32) { value.withLock { if $0 == nil { $0 = signal } } }
  var signal: Int32? { value.withLock { $0 } }
}
