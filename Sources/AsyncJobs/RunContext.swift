/// What a running job knows about where it runs: the chain of running schedulers, outermost first.
struct RunContext: Sendable {
  /// The running schedulers, from the outermost down to the job's own scheduler.
  let path: [Scheduler]
  /// When the outermost run started, on the wall clock (for verbose time stamps).
  let start: ContinuousClock.Instant
  /// The clock of the outermost scheduler: every timing decision of the run (its deadline, job
  /// timeouts, retry delays, the shutdown bound) is made on it.
  let clock: any Clock<Duration>

  /// The job's own scheduler.
  var scheduler: Scheduler { path[path.count - 1] }

  /// Whether anyone along the path wants events.
  var isObserved: Bool {
    for scheduler in path where scheduler.isObserved { return true }
    return false
  }

  /// Builds and delivers an event to every scheduler of the path (when observed); prints it once
  /// if one of them is verbose.
  func emit(_ kind: SchedulerEvent.Kind, _ job: AbstractJob) {
    guard isObserved else { return }
    let now = ContinuousClock.now
    let event = SchedulerEvent(kind: kind, job: job, scheduler: scheduler, path: path, time: now)
    if path.contains(where: { $0.verbose }) {
      let millis = Int(((now - start) / .milliseconds(1)).rounded())
      let stamp = String(repeating: "0", count: max(0, 7 - String(millis).count)) + String(millis)
      print("\(stamp.dropLast(3)).\(stamp.suffix(3))  \(scheduler.stats()) \(event)")
    }
    for scheduler in path { scheduler.deliver(event) }
  }
}

/// How a job's task ended.
enum JobOutcome: Sendable {
  case success((any Sendable)?)
  case failure(any Error)
  case cancelled
}

/// Runs a job's body with its per-attempt timeout and its retries, inside the job's child task.
enum JobRunner {
  /// Runs the attempts of `job`; `expiry` is the first attempt's deadline (fixed by the run loop
  /// before `.started`), nil when the job has no timeout.
  static func perform(_ job: AbstractJob, _ context: RunContext, expiry first: DeadlineSleeper?) async -> JobOutcome {
    var attempt = 0
    var expiry = first
    while true {
      attempt += 1
      job.state.withLock { $0.attempts = Int32(attempt) }
      do {
        let value = try await attemptOnce(job, context, expiry: expiry)
        return .success(value)
      } catch {
        if Task.isCancelled { return .cancelled }
        guard attempt <= job.retries else { return .failure(error) }
        if job.retryDelay > .zero {
          let wake = context.clock.sleeper(after: job.retryDelay)  // fixed before `.retrying`
          context.emit(.retrying(attempt: attempt, error: error), job)
          do { try await wake() } catch { return .cancelled }
        } else {
          context.emit(.retrying(attempt: attempt, error: error), job)
        }
        expiry = self.expiry(of: job, context)  // the next attempt's, fixed before its body starts
      }
    }
  }

  /// The deadline of an attempt of `job` starting now, on the run's clock; nil without a timeout
  /// (a scheduler's `timeout` bounds its own run instead).
  static func expiry(of job: AbstractJob, _ context: RunContext) -> DeadlineSleeper? {
    guard let timeout = job.timeout, !(job is Scheduler) else { return nil }
    return context.clock.sleeper(after: timeout)
  }

  private static func attemptOnce(
    _ job: AbstractJob, _ context: RunContext, expiry: DeadlineSleeper?
  ) async throws -> (any Sendable)? {
    guard let expiry else { return try await job.runAsMember(context) }
    let timeout = job.timeout ?? .zero
    return try await withThrowingTaskGroup(of: (any Sendable)?.self) { group in
      group.addImmediateTask { try await job.runAsMember(context) }
      group.addTask {
        try await expiry()  // an absolute deadline: the timer task may start late on a busy pool
        throw JobTimeoutError(job: job.effectiveLabel, timeout: timeout)
      }
      defer { group.cancelAll() }
      return try await group.next() ?? nil
    }
  }
}
