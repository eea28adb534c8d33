import AsyncJobs
import Foundation
import Synchronization

/// Runs a ``RunSpec``: builds its nodes (through one ``NodeFactory``), one `SshJob` per job spec
/// and the `Scheduler` over them, then runs it and tells how each job ended.
///
/// The scheduler is built when the runner is created, so that it can be listed (`--dry-run`) or
/// drawn (`--graph`) without running. A run is cancelled by cancelling the task that awaits
/// ``run(onEvent:)``: the remote commands are stopped, and in every case every connection is
/// closed before it returns.
public final class Runner: Sendable {
  /// What runs.
  public let spec: RunSpec
  /// How it connects.
  public let settings: RunSettings
  /// The scheduler of the jobs (flat: one member per job spec).
  public let scheduler: Scheduler
  /// The jobs, in the order of `spec.jobs`.
  public let jobs: [SshJob]

  /// Builds the nodes, jobs and scheduler of `spec`.
  /// - Parameter formatter: the output formatter of a node (called once per distinct node).
  /// - Throws: ``RunSpecError`` when a job requires an unknown job, or requirements form a cycle.
  public init(spec: RunSpec, settings: RunSettings, formatter: @escaping (NodeSpec) -> any OutputFormatter) throws {
    try Self.validate(spec)
    self.spec = spec
    self.settings = settings
    let factory = NodeFactory(settings: settings, specs: spec.jobs.map(\.node), formatter: formatter)
    var byName: [String: [SshJob]] = [:]
    var jobs: [SshJob] = []
    for job in spec.jobs {
      let made = SshJob(
        node: factory.node(for: job.node), commands: job.commands, label: job.label, critical: job.critical,
        forever: job.forever, verbose: job.verbose)
      made.timeout = job.timeout
      made.commandTimeout = settings.commandTimeout
      byName[job.name, default: []].append(made)
      jobs.append(made)
    }
    for (job, made) in zip(spec.jobs, jobs) {
      made.requires(job.requires.flatMap { byName[$0] ?? [] })
    }
    self.jobs = jobs
    scheduler = Scheduler(
      jobs, jobsWindow: settings.window ?? spec.window, timeout: spec.timeout, critical: false, label: spec.label)
  }

  /// Runs the jobs; returns how each ended. Cancelling the calling task interrupts the run.
  /// - Parameter onEvent: told when a job starts and ends (for a live progress view).
  public func run(onEvent: (@Sendable (RunEvent) -> Void)? = nil) async -> RunOutcome {
    let times = Mutex<[ObjectIdentifier: (start: Date?, end: Date?)]>([:])
    let index = Dictionary(uniqueKeysWithValues: jobs.enumerated().map { (ObjectIdentifier($1), $0) })
    scheduler.eventHandler = { event in
      guard let position = index[ObjectIdentifier(event.job)] else { return }
      let id = ObjectIdentifier(event.job)
      switch event.kind {
      case .started:
        times.withLock { $0[id, default: (nil, nil)].start = Date() }
        onEvent?(.started(job: position))
      case .finished, .failed, .cancelled:
        let started = times.withLock { times in
          times[id, default: (nil, nil)].end = Date()
          return times[id]?.start != nil
        }
        let succeeded = (event.job.result as? ExitStatus)?.isSuccess == true
        if started { onEvent?(.ended(job: position, succeeded: succeeded)) }
      default:
        break
      }
    }
    let scheduler = self.scheduler
    let task = Task { try await scheduler.run() }
    let result = await withTaskCancellationHandler {
      await task.result
    } onCancel: {
      task.cancel()
    }
    // Whatever happened, and even if this task is cancelled: every connection is closed (stop
    // requests for remote commands go out first).
    await Task { await closeConnections(in: scheduler) }.value
    scheduler.eventHandler = nil
    var interrupted = false
    if case .failure(let error) = result, error is CancellationError { interrupted = true }
    let timedOut = scheduler.failedTimeout
    let recorded = times.withLock { $0 }
    let outcomes = zip(spec.jobs, jobs).map { spec, job in
      let time = recorded[ObjectIdentifier(job)]
      return JobOutcome(spec: spec, job: job, start: time?.start, end: time?.end, runStopped: interrupted || timedOut)
    }
    return RunOutcome(jobs: outcomes, interrupted: interrupted, timedOut: timedOut)
  }

  /// Checks that every requirement names a job, that requirements form no cycle, and that the run
  /// can end: a run of only `forever` jobs has nothing to wait for, unless a time limit ends it.
  static func validate(_ spec: RunSpec) throws {
    if let first = spec.jobs.first, spec.jobs.allSatisfy(\.forever), spec.timeout == nil {
      throw RunSpecError.onlyForever(location: first.location)
    }
    var requirements: [String: [String]] = [:]
    var locations: [String: SourceLocation] = [:]
    var order: [String] = []
    for job in spec.jobs {
      if requirements[job.name] == nil { order.append(job.name) }
      requirements[job.name, default: []] += job.requires
      if let location = job.location, locations[job.name] == nil { locations[job.name] = location }
    }
    for job in spec.jobs {
      for name in job.requires where requirements[name] == nil {
        throw RunSpecError.unknownRequirement(job: job.name, requirement: name, location: job.location, known: order)
      }
    }
    // Depth-first search; a job met again while on the path closes a cycle.
    var state: [String: Int] = [:]  // 1 on the path, 2 done
    var path: [String] = []
    func visit(_ name: String) throws {
      state[name] = 1
      path.append(name)
      for next in requirements[name] ?? [] {
        if state[next] == 1 {
          let cycle = Array(path[path.lastIndex(of: next)!...])
          throw RunSpecError.cycle(cycle.map { ($0, locations[$0]) })
        }
        if state[next] == nil { try visit(next) }
      }
      path.removeLast()
      state[name] = 2
    }
    for name in order where state[name] == nil { try visit(name) }
  }
}

/// Something that happened to a job of a run (for live progress views).
public enum RunEvent: Sendable, Equatable {
  /// The job at this index of the spec started.
  case started(job: Int)
  /// The job at this index ended; `succeeded` when its commands all succeeded.
  case ended(job: Int, succeeded: Bool)
}

/// A run spec that cannot run: what is wrong, naming the jobs and where they are written.
public enum RunSpecError: Error, Sendable, CustomStringConvertible {
  /// `job` requires `requirement`, which no job is called.
  case unknownRequirement(job: String, requirement: String, location: SourceLocation?, known: [String])
  /// The requirements of these jobs form a cycle (each requires the next, the last the first).
  case cycle([(job: String, location: SourceLocation?)])
  /// Every job is `forever` and the run has no time limit: it would never end.
  case onlyForever(location: SourceLocation?)

  /// The first place the error is about, if known.
  public var location: SourceLocation? {
    switch self {
    case .unknownRequirement(_, _, let location, _): return location
    case .cycle(let jobs): return jobs.first?.location
    case .onlyForever(let location): return location
    }
  }

  /// A message naming the jobs and lines.
  public var description: String {
    switch self {
    case .unknownRequirement(let job, let requirement, _, let known):
      return "job '\(job)' requires unknown job '\(requirement)'; known jobs: \(known.joined(separator: ", "))"
    case .cycle(let jobs):
      let names = jobs.map { job in
        "'\(job.job)'" + (job.location?.line.map { " (line \($0))" } ?? "")
      }
      return "the requirements form a cycle: \((names + [names[0]]).joined(separator: " requires "))"
    case .onlyForever(let location):
      let place = location?.line.map { " (the first at line \($0))" } ?? ""
      return "every job is 'forever'\(place), so the run would wait for nothing and never end: "
        + "give the scenario a 'timeout:' to run them that long, or make a job not forever"
    }
  }
}
