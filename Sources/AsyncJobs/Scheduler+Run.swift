import Synchronization

/// Counts the job tasks that have finished, so that the run loop knows when `group.next()` will
/// return without suspending (and drains completions before starting more jobs).
private final class CompletionCounter: Sendable {
  let value = Atomic<Int>(0)
}

/// What a child task of the run's task group hands back to the run loop.
private enum Completion: Sendable {
  case job(Int32, JobOutcome)
  case deadline
  case deadlineCancelled
}

extension Scheduler {
  /// One run: validation, the run loop, the shutdown phase, then the result. `parent` is the
  /// context of the enclosing run when this scheduler runs as a member: its clock is used.
  func execute(path: [Scheduler], parent: RunContext? = nil) async throws -> Bool {
    let start = parent?.start ?? .now
    let clock = parent?.clock ?? self.clock
    try outcome.withLock { (state) throws(SchedulerError) in
      if state.running { throw .alreadyRunning(scheduler: effectiveLabel) }
      state = Outcome(running: true, didShutdown: false, clock: clock)
    }
    defer { outcome.withLock { $0.running = false } }

    let plan: RunPlan
    do {
      plan = try RunPlan(self)
      _ = try plan.topologicalOrder(scheduler: effectiveLabel)
      // The outermost run checks the whole tree; a nested run was checked with it.
      if path.count == 1 {
        for case let nested as Scheduler in members { try nested.validate() }
      }
    } catch {
      outcome.withLock { $0.didShutdown = true }
      finishStreams()
      throw error
    }
    resetMembers(clock: clock)
    if members.isEmpty {
      outcome.withLock { $0.didShutdown = true }
      finishStreams()
      return true
    }

    let context = RunContext(path: path, start: start, clock: clock)
    // The run's deadline is fixed before `.runStarted` (see `Scheduler.clock`).
    let deadline = timeout.map { clock.sleeper(after: $0) }
    context.emit(.runStarted, self)
    let loop = await runLoop(plan, context, deadline: deadline)
    outcome.withLock {
      $0.failedTimeout = loop.timedOut
      $0.failedCritical = loop.criticalError != nil
    }
    await shutdown()

    let succeeded = !loop.timedOut && loop.criticalError == nil && !loop.cancelled
    context.emit(.runFinished(succeeded: succeeded), self)
    finishStreams()
    if loop.cancelled { throw CancellationError() }
    if succeeded { return true }
    if !critical { return false }
    if loop.timedOut {
      throw SchedulerTimeoutError(scheduler: effectiveLabel, timeout: timeout ?? .zero)
    }
    throw loop.criticalError!
  }

  /// Resets the state of every job of the tree (not the scheduler's own) before a run; nested
  /// schedulers remember the run's clock for their shutdown phase.
  private func resetMembers(clock: any Clock<Duration>) {
    for job in members {
      job.resetState()
      job.prepareForRun()
      if let nested = job as? Scheduler {
        nested.outcome.withLock { $0 = Outcome(didShutdown: false, clock: clock) }
        nested.resetMembers(clock: clock)
      }
    }
  }

  /// Checks this scheduler and its nested ones for cycles and outside requirements.
  func validate() throws(SchedulerError) {
    let plan = try RunPlan(self)
    _ = try plan.topologicalOrder(scheduler: effectiveLabel)
    for case let nested as Scheduler in members { try nested.validate() }
  }

  /// The run loop: a task group whose children are the jobs' bodies (plus a timer sleeping until
  /// `deadline`, the run's own). Requirement counters make it O(jobs + edges); state lives in this
  /// function.
  private func runLoop(
    _ plan: RunPlan, _ context: RunContext, deadline: DeadlineSleeper?
  ) async -> (timedOut: Bool, criticalError: (any Error)?, cancelled: Bool) {
    let jobs = plan.jobs
    var waitingFor = plan.inDegrees()
    let (successorStart, successors) = plan.successors()
    var window = Window(size: jobsWindow)
    let finiteTotal = jobs.reduce(0) { $1.forever ? $0 : $0 + 1 }
    var finiteDone = 0
    var inFlight = 0
    var consumed = 0
    let finished = CompletionCounter()
    var stopping = false
    var timedOut = false
    var cancelled = false
    var criticalError: (any Error)?

    func schedule(_ index: Int32) {
      let job = jobs[Int(index)]
      job.state.withLock { $0.status = .scheduled }
      context.emit(.scheduled, job)
      window.enqueue(index)
    }

    await withTaskGroup(of: Completion.self) { group in
      func stop() {
        stopping = true
        group.cancelAll()
      }

      if let deadline {
        group.addTask {
          do {
            try await deadline()
            return .deadline
          } catch {
            return .deadlineCancelled
          }
        }
      }
      for index in 0..<Int32(jobs.count) where waitingFor[Int(index)] == 0 { schedule(index) }

      while true {
        if !stopping && Task.isCancelled {
          cancelled = true
          stop()
        }
        // Start a job only when no finished task waits to be taken (keeps memory flat).
        if !stopping, finished.value.load(ordering: .acquiring) == consumed,
          let index = window.next(inUse: inFlight)
        {
          let job = jobs[Int(index)]
          // The first attempt's deadline is fixed before `.started` (see `Scheduler.clock`).
          let expiry = job.timeout == nil ? nil : JobRunner.expiry(of: job, context)
          job.state.withLock {
            $0.status = .running
            $0.startedAt = .now
          }
          context.emit(.started, job)
          inFlight += 1
          group.addImmediateTask {
            let outcome = await JobRunner.perform(job, context, expiry: expiry)
            finished.value.add(1, ordering: .releasing)
            return .job(index, outcome)
          }
          continue
        }
        if inFlight == 0 && (stopping || window.isEmpty) { break }
        if consumed & 1023 == 1023 { await Task.yield() }  // long synchronous stretches: be fair
        guard let completion = await group.next() else { break }
        let index: Int32
        let result: JobOutcome
        switch completion {
        case .deadline:
          if !stopping {
            timedOut = true
            stop()
          }
          continue
        case .deadlineCancelled:
          continue
        case .job(let position, let outcome):
          index = position
          result = outcome
        }
        consumed += 1
        inFlight -= 1
        let job = jobs[Int(index)]
        record(result, of: job, context: context)
        if stopping { continue }
        switch result {
        case .failure(let error) where job.critical:
          criticalError = error
          stop()
          continue
        case .cancelled:
          cancelled = true
          stop()
          continue
        default:
          break
        }
        if !job.forever { finiteDone += 1 }
        if finiteDone == finiteTotal {
          stop()
          continue
        }
        for edge in Int(successorStart[Int(index)])..<Int(successorStart[Int(index) + 1]) {
          let successor = Int(successors[edge])
          waitingFor[successor] -= 1
          if waitingFor[successor] == 0 { schedule(Int32(successor)) }
        }
      }
      group.cancelAll()
    }
    for index in window.waiting {
      jobs[Int(index)].state.withLock { $0.cancelled = true }
    }
    if cancelled && (timedOut || criticalError != nil) { cancelled = false }
    return (timedOut, criticalError, cancelled)
  }

  /// Stores how a job's task ended, and emits the matching event.
  private func record(_ outcome: JobOutcome, of job: AbstractJob, context: RunContext?) {
    let now = ContinuousClock.now
    switch outcome {
    case .success(let value):
      job.state.withLock {
        $0.status = .done
        $0.result = value
        $0.endedAt = now
      }
      context?.emit(.finished, job)
    case .failure(let error):
      job.state.withLock {
        $0.status = .done
        $0.error = error
        $0.endedAt = now
      }
      context?.emit(.failed(error), job)
    case .cancelled:
      job.state.withLock {
        $0.cancelled = true
        $0.endedAt = now
      }
      context?.emit(.cancelled, job)
    }
  }

  /// Calls every member's `shutdown()` concurrently and waits for them, at most `shutdownTimeout`
  /// on `clock` (the run's): then the late ones are cancelled and left behind (a `shutdown()` that
  /// ignores cancellation cannot hold the run). Runs in an unstructured task so that it happens even
  /// when the run was cancelled.
  func shutdownMembers(clock: any Clock<Duration>) async {
    let targets = members.filter { $0.needsShutdown }
    if targets.isEmpty { return }
    // Fixed before any `shutdown()` is called (see `Scheduler.clock`).
    let deadline = shutdownTimeout.map { clock.sleeper(after: $0) }
    let verbose = verbose
    await Task {
      let (completions, completion) = AsyncStream.makeStream(of: Bool.self)
      let calls = targets.map { job in
        Task {
          await job.shutdown()
          completion.yield(true)
        }
      }
      let timer = deadline.map { deadline in
        Task {
          do { try await deadline() } catch { return }
          completion.yield(false)
        }
      }
      var left = targets.count
      for await finished in completions {
        if finished {
          left -= 1
          if left == 0 { break }
        } else {
          if verbose {
            print("WARNING: \(left)/\(targets.count) shutdown() calls have not returned within timeout")
          }
          for call in calls { call.cancel() }
          break
        }
      }
      timer?.cancel()
      completion.finish()
    }.value
  }
}
