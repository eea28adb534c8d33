/// What a running job knows about where it runs: the chain of running schedulers, outermost first.
struct RunContext: Sendable {
  /// The running schedulers, from the outermost down to the job's own scheduler.
  let path: [Scheduler]
  /// When the outermost run started (for verbose time stamps).
  let start: ContinuousClock.Instant

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
  static func perform(_ job: AbstractJob, _ context: RunContext) async -> JobOutcome {
    var attempt = 0
    while true {
      attempt += 1
      job.state.withLock { $0.attempts = Int32(attempt) }
      do {
        let value = try await attemptOnce(job, context)
        return .success(value)
      } catch {
        if Task.isCancelled { return .cancelled }
        guard attempt <= job.retries else { return .failure(error) }
        context.emit(.retrying(attempt: attempt, error: error), job)
        if job.retryDelay > .zero {
          do { try await Task.sleep(for: job.retryDelay) } catch { return .cancelled }
        }
      }
    }
  }

  private static func attemptOnce(
    _ job: AbstractJob, _ context: RunContext
  ) async throws -> (any Sendable)? {
    guard let timeout = job.timeout, !(job is Scheduler) else {
      return try await job.runAsMember(context)
    }
    let deadline = ContinuousClock.now + timeout  // the timer task may start late on a busy pool
    return try await withThrowingTaskGroup(of: (any Sendable)?.self) { group in
      group.addImmediateTask { try await job.runAsMember(context) }
      group.addTask {
        try await Task.sleep(until: deadline, clock: .continuous)
        throw JobTimeoutError(job: job.effectiveLabel, timeout: timeout)
      }
      defer { group.cancelAll() }
      return try await group.next() ?? nil
    }
  }
}
