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
  /// One run: validation, the run loop, the shutdown phase, then the result.
  func execute(path: [Scheduler], start: ContinuousClock.Instant = .now) async throws -> Bool {
    try outcome.withLock { (state) throws(SchedulerError) in
      if state.running { throw .alreadyRunning(scheduler: effectiveLabel) }
      state = Outcome(running: true, didShutdown: false)
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
    resetMembers()
    if members.isEmpty {
      outcome.withLock { $0.didShutdown = true }
      finishStreams()
      return true
    }

    let context = RunContext(path: path, start: start)
    context.emit(.runStarted, self)
    let loop = await runLoop(plan, context)
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

  /// Resets the state of every job of the tree (not the scheduler's own) before a run.
  private func resetMembers() {
    for job in members {
      job.resetState()
      job.prepareForRun()
      if let nested = job as? Scheduler {
        nested.outcome.withLock { $0 = Outcome(didShutdown: false) }
        nested.resetMembers()
      }
    }
  }

  /// Checks this scheduler and its nested ones for cycles and outside requirements.
  func validate() throws(SchedulerError) {
    let plan = try RunPlan(self)
    _ = try plan.topologicalOrder(scheduler: effectiveLabel)
    for case let nested as Scheduler in members { try nested.validate() }
  }

  /// The run loop: a task group whose children are the jobs' bodies (plus a deadline timer).
  /// Requirement counters make it O(jobs + edges); state lives in this function.
  private func runLoop(
    _ plan: RunPlan, _ context: RunContext
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
    let deadline = timeout.map { ContinuousClock.now + $0 }

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
            try await Task.sleep(until: deadline, clock: .continuous)
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
          job.state.withLock {
            $0.status = .running
            $0.startedAt = .now
          }
          context.emit(.started, job)
          inFlight += 1
          group.addImmediateTask {
            let outcome = await JobRunner.perform(job, context)
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

  /// Calls every member's `shutdown()` concurrently and waits for them, at most `shutdownTimeout`:
  /// then the late ones are cancelled and left behind (a `shutdown()` that ignores cancellation
  /// cannot hold the run). Runs in an unstructured task so that it happens even when the run was
  /// cancelled.
  func shutdownMembers() async {
    let targets = members.filter { $0.needsShutdown }
    if targets.isEmpty { return }
    let deadline = shutdownTimeout.map { ContinuousClock.now + $0 }
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
          do { try await Task.sleep(until: deadline, clock: .continuous) } catch { return }
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
