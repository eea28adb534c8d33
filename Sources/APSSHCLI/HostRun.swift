import Foundation
import Inventory
import Synchronization
import SshJobs

/// How one host's job ended.
struct HostOutcome {
  /// The target spec (`user@host:port`), or the job's label in a scenario.
  let target: String
  let node: any CommandNode
  let job: SshJob
  var start: Date?
  var end: Date?

  /// The exit status (or signal) of the command, when it ran to its end.
  var exitStatus: ExitStatus? { job.result as? ExitStatus }

  /// Whether the host succeeded (exit 0).
  var succeeded: Bool { exitStatus?.isSuccess == true }

  /// `ok`, `failed`, `error`, `cancelled` or `skipped` (see `JSONReport`).
  var statusName: String {
    if let exitStatus { return exitStatus.isSuccess ? "ok" : "failed" }
    if job.wasCancelled { return "cancelled" }
    return job.error == nil ? "skipped" : "error"
  }

  /// What went wrong when there is no exit status.
  var errorMessage: String? {
    guard exitStatus == nil else { return nil }
    if job.wasCancelled { return "cancelled" }
    return job.error.map { String(describing: $0) } ?? "not run"
  }

  /// The mark of `--mark` files: `0`, `1`, `SIGTERM`, or `None` without a result.
  var mark: String {
    switch exitStatus {
    case .code(let code)?: return String(code)
    case .signal(let name)?: return name
    case nil: return "None"
    }
  }
}

/// Runs one job per host in a scheduler (the window applied), with live progress, Ctrl-C handling
/// (cancel the run, close every connection) and per-host start and end times.
struct HostRun {
  let tool: String
  let environment: CLIEnvironment
  let console: Console
  let progress: ProgressLine?

  /// Runs the jobs; returns their outcomes in order and whether SIGINT interrupted the run.
  func run(_ items: [(target: Target, node: SshNode, job: SshJob)], window: Int?) async -> (
    outcomes: [HostOutcome], interrupted: Bool
  ) {
    let scheduler = Scheduler(items.map(\.job), jobsWindow: window, critical: false, label: tool)
    let run = await run(scheduler)
    let outcomes = items.map { item in
      let time = run.times[ObjectIdentifier(item.job)]
      return HostOutcome(
        target: item.target.description, node: item.node, job: item.job, start: time?.start, end: time?.end)
    }
    return (outcomes, run.interrupted)
  }

  /// Runs a scheduler with progress, times and Ctrl-C handling, then closes every connection.
  func run(_ scheduler: Scheduler) async -> (
    succeeded: Bool, interrupted: Bool, times: [ObjectIdentifier: (start: Date?, end: Date?)]
  ) {    let times = Mutex<[ObjectIdentifier: (start: Date?, end: Date?)]>([:])
    let progress = self.progress
    scheduler.eventHandler = { event in
      guard !(event.job is Scheduler) else { return }
      let id = ObjectIdentifier(event.job)
      switch event.kind {
      case .started:
        times.withLock { $0[id, default: (nil, nil)].start = Date() }
        progress?.started()
      case .finished, .failed, .cancelled:
        let wasStarted = times.withLock { times in
          times[id, default: (nil, nil)].end = Date()
          return times[id]?.start != nil
        }
        let ok = (event.job.result as? ExitStatus)?.isSuccess == true
        if wasStarted { progress?.ended(failed: !ok) }
      default:
        break
      }
    }
    progress?.startTicking()
    let task = Task { try await scheduler.run() }
    let watcher = environment.handlesSignals ? InterruptWatcher { task.cancel() } : nil
    let result = await withTaskCancellationHandler {
      await task.result
    } onCancel: {
      task.cancel()
    }
    watcher?.stop()
    await closeConnections(in: scheduler)
    progress?.finish()
    var interrupted = watcher?.interrupted ?? false
    if case .failure(let error) = result, error is CancellationError { interrupted = true }
    let succeeded = (try? result.get()) ?? false
    return (succeeded, interrupted, times.withLock { $0 })
  }

  /// Prints, on stderr, one line per host without a result, then the summary of an interrupted run.
  func report(_ outcomes: [HostOutcome], interrupted: Bool) {
    for outcome in outcomes where outcome.exitStatus == nil && !outcome.job.wasCancelled {
      let message = outcome.errorMessage ?? "no result"
      console.err("\(outcome.node.description): \(tool) WARNING - no result ! (\(message))")
    }
    if interrupted {
      let ok = outcomes.filter(\.succeeded).count
      let cancelled = outcomes.filter { $0.job.wasCancelled }.count
      console.err(
        "\(tool): interrupted - \(ok) host(s) ok, \(outcomes.count - ok - cancelled) failed, \(cancelled) cancelled;"
          + " connections closed")
    }
  }

  /// 130 when interrupted, 0 when every host returned 0, 1 otherwise.
  static func exitCode(_ outcomes: [HostOutcome], interrupted: Bool) -> Int32 {
    if interrupted { return ExitCodes.interrupted }
    return outcomes.allSatisfy(\.succeeded) ? ExitCodes.success : ExitCodes.failure
  }
}
