import Foundation
import Testing

@testable import AsyncJobs

/// The Python quirks fixed here, and the additions: per-job timeout, retries, events.
@Suite struct QuirksTests {
  @Test func aDroppedEventStreamIsForgotten() async throws {
    let scheduler = Scheduler(Job { 1 })
    var stream: AsyncStream<SchedulerEvent>? = scheduler.events()
    #expect(scheduler.isObserved)
    #expect(stream != nil)
    stream = nil
    #expect(!scheduler.isObserved, "events are still built for a stream nobody reads")
    #expect(try await scheduler.run())
  }

  @Test func shutdownTimeoutBoundsAShutdownThatIgnoresCancellation() async throws {
    // A shutdown stuck for 3 s in a wait that cancellation does not end.
    let stuck = Job(
      label: "stuck",
      shutdown: {
        await withCheckedContinuation { continuation in
          DispatchQueue.global().asyncAfter(deadline: .now() + 3) { continuation.resume() }
        }
      }
    ) { 1 }
    let scheduler = Scheduler(stuck, shutdownTimeout: .milliseconds(200), critical: false)
    let start = ContinuousClock.now
    #expect(try await scheduler.run())
    #expect(ContinuousClock.now - start < .seconds(2), "run() waited for the stuck shutdown")
  }

  @Test func windowSlotFreedAfterThrow() async throws {
    let failing = boomJob(0, label: "fails", critical: false)
    let others = (1...3).map { sleepJob(0.05, label: "after\($0)") }
    let scheduler = Scheduler([failing] + others, jobsWindow: 1, timeout: .seconds(2), critical: false)
    let (ok, time) = try await timed { try await scheduler.run() }
    #expect(ok)
    #expect(time < 1)
    #expect(others.allSatisfy { $0.isDone })
  }

  @Test func windowSlotFreedAfterTimeoutOfJob() async throws {
    let slow = Job(label: "slow", critical: false, timeout: .seconds(0.1)) {
      try await Task.sleep(for: .seconds(5))
      return nil
    }
    let next = sleepJob(0.05, label: "next")
    let scheduler = Scheduler(slow, next, jobsWindow: 1)
    let (ok, time) = try await timed { try await scheduler.run() }
    #expect(ok && next.isDone)
    #expect(about(time, 0.15))
  }

  @Test func scheduledJobsWaitForASlotInOrder() async throws {
    let log = Log()
    let jobs = (1...6).map { index in
      Job(label: "j\(index)") {
        log.append("j\(index)")
        try await Task.sleep(for: .seconds(0.02))
        return nil
      }
    }
    let statuses = Log()
    let scheduler = Scheduler(jobs, jobsWindow: 2)
    scheduler.eventHandler = { event in
      if case .started = event.kind, event.job === jobs[0] {
        statuses.append(jobs.map { "\($0.status)" }.joined(separator: ","))
      }
    }
    #expect(try await scheduler.run())
    #expect(log.all == (1...6).map { "j\($0)" })
    #expect(statuses.all == ["running,scheduled,scheduled,scheduled,scheduled,scheduled"])
  }

  @Test func cancellationReachesNestedJobs() async throws {
    let inner = sleepJob(10, label: "inner")
    let innerShutdown = Counter()
    let watched = Job(label: "watched", shutdown: { innerShutdown.add(1) }) {
      try await Task.sleep(for: .seconds(10))
      return nil
    }
    let nested = Scheduler(inner, watched, label: "nested")
    let deeper = Scheduler(Scheduler(sleepJob(10, label: "deepest"), label: "level2"), label: "level1")
    let top = Scheduler(nested, deeper, sleepJob(10, label: "top-level"))
    let task = Task { try await top.run() }
    try await Task.sleep(for: .seconds(0.2))
    #expect(inner.isRunning)
    let start = ContinuousClock.now
    task.cancel()
    await #expect(throws: CancellationError.self) { try await task.value }
    #expect(ContinuousClock.now - start < .seconds(1))
    #expect(inner.wasCancelled && watched.wasCancelled && !inner.isDone)
    #expect(top.allJobs().allSatisfy { $0.wasCancelled })
    #expect(innerShutdown.current == 1)
  }

  @Test func rerunResetsStatesAndRunsAgain() async throws {
    let counter = Counter()
    let first = Job(label: "first") {
      counter.add(1)
      return counter.current
    }
    let second = Job(label: "second", requires: [first]) {
      counter.add(10)
      return nil
    }
    let nested = Scheduler(Job(label: "nested") { counter.add(100) }, label: "sub").requires(second)
    let scheduler = Scheduler(first, second, nested)
    #expect(try await scheduler.run())
    #expect(counter.current == 111)
    #expect(try await scheduler.run())
    #expect(counter.current == 222)
    #expect(scheduler.allJobs(includingSchedulers: true).dropFirst().allSatisfy { $0.isDone })
    #expect(first.result as? Int == 112)
  }

  @Test func concurrentRunIsRefused() async throws {
    let scheduler = Scheduler(sleepJob(0.3), label: "busy")
    async let running = scheduler.run()
    try await Task.sleep(for: .seconds(0.1))
    await #expect(throws: SchedulerError.alreadyRunning(scheduler: "busy")) { try await scheduler.run() }
    #expect(try await running)
  }

  @Test func appendChainsItsArguments() {
    let a = (1...4).map { noop("a\($0)") }
    var sequence = JobSequence(a[0])
    sequence.append(a[1], a[2], JobSequence(a[3]))
    #expect(a[2].requirements.first === a[1])
    #expect(a[3].requirements.first === a[2])
    #expect(sequence.jobs.count == 4)
  }

  @Test func whyWithTimeoutZero() async throws {
    let scheduler = Scheduler(sleepJob(0.5), timeout: .zero, critical: false)
    #expect(try await scheduler.run() == false)
    #expect(scheduler.why() == "TIMED OUT after 0s")
    let critical = Scheduler(sleepJob(0.5), timeout: .zero, label: "zero")
    await #expect(throws: SchedulerTimeoutError(scheduler: "zero", timeout: .zero)) { try await critical.run() }
  }

  @Test func criticalSchedulerTimeoutError() async throws {
    let scheduler = Scheduler(sleepJob(2), timeout: .seconds(0.1), label: "slow one")
    do {
      _ = try await scheduler.run()
      Issue.record("should throw")
    } catch let error as SchedulerTimeoutError {
      #expect(error.scheduler == "slow one" && error.timeout == .seconds(0.1))
      #expect("\(error)".contains("slow one") && "\(error)".contains("0.1s"))
    }
    #expect(scheduler.failedTimeout && !scheduler.failedCritical)
  }

  @Test func idWidthIsTheNumberOfDigitsOfTheCount() {
    let ten = Scheduler(JobSequence((1...10).map { noop("j\($0)") }))
    let lines = ten.list(symbols: .unicode).split(separator: "\n")
    #expect(lines.first!.hasPrefix("01 ") && lines.last!.hasPrefix("10 "))
    let nine = Scheduler(JobSequence((1...9).map { noop("j\($0)") }))
    #expect(nine.list(symbols: .unicode).hasPrefix("1 "))
  }

  @Test func insertionOrderIsDeterministic() {
    let jobs = (1...50).map { noop("j\($0)") }
    for index in stride(from: 2, to: 50, by: 3) { jobs[index].requires(jobs[index - 2]) }
    let one = Scheduler(jobs).list(symbols: .unicode)
    let two = Scheduler(jobs).list(symbols: .unicode)
    #expect(one == two)
    #expect(labels(Scheduler(jobs).entryJobs) == labels(jobs.filter { $0.requirements.isEmpty }))
  }

  @Test func topologicalOrderPutsRequirementsFirst() throws {
    let x1 = noop("x1")
    let x2 = noop("x2")
    let x3 = noop("x3")
    x1.requires(x2)
    x2.requires(x3)
    #expect(labels(try Scheduler(x1, x2, x3).topologicalOrder()) == ["x3", "x2", "x1"])
  }

  @Test func longChainsDoNotOverflowTheStack() async throws {
    var jobs: [AbstractJob] = []
    for index in 0..<50_000 {
      let job = Job { nil }
      if index > 0 { job.requires(jobs[index - 1]) }
      jobs.append(job)
    }
    let scheduler = Scheduler(jobs)
    jobs = []
    #expect(try await scheduler.run())
    #expect(scheduler.jobs.last!.isDone)
  }

  // MARK: - Timeout and retries

  @Test func jobTimeout() async throws {
    let slow = Job(label: "slow", timeout: .seconds(0.2)) {
      try await Task.sleep(for: .seconds(3))
      return 1
    }
    let scheduler = Scheduler(slow, critical: false)
    let (ok, time) = try await timed { try await scheduler.run() }
    #expect(!ok)
    #expect(about(time, 0.2))
    #expect(slow.isDone && slow.error as? JobTimeoutError == JobTimeoutError(job: "slow", timeout: .seconds(0.2)))
    let critical = Scheduler(Job(label: "slow", timeout: .seconds(0.1)) {
      try await Task.sleep(for: .seconds(3))
      return 1
    })
    await #expect(throws: JobTimeoutError.self) { try await critical.run() }
    let fast = Job(label: "fast", timeout: .seconds(1)) { 42 }
    #expect(try await Scheduler(fast).run())
    #expect(fast.result as? Int == 42)
  }

  @Test func retries() async throws {
    let attempts = Counter()
    let flaky = Job(label: "flaky", retries: 2, retryDelay: .seconds(0.1)) {
      attempts.add(1)
      if attempts.current < 3 { throw BoomError(message: "attempt \(attempts.current)") }
      return "ok"
    }
    let (ok, time) = try await timed { try await Scheduler(flaky).run() }
    #expect(ok)
    #expect(about(time, 0.2))
    #expect(flaky.result as? String == "ok" && flaky.attempts == 3 && flaky.error == nil)

    let tries = Counter()
    let hopeless = Job(label: "hopeless", critical: false, retries: 1) {
      tries.add(1)
      throw BoomError(message: "again")
    }
    #expect(try await Scheduler(hopeless).run())
    #expect(tries.current == 2 && hopeless.error as? BoomError == BoomError(message: "again"))

    let timedOut = Counter()
    let retryTimeout = Job(label: "retry timeout", critical: false, timeout: .seconds(0.1), retries: 1) {
      timedOut.add(1)
      try await Task.sleep(for: .seconds(3))
      return nil
    }
    let (_, time2) = try await timed { try await Scheduler(retryTimeout).run() }
    #expect(timedOut.current == 2 && about(time2, 0.2))
  }

  // MARK: - Events

  @Test func eventsOfNestedSchedulersReachTheTop() async throws {
    let a = sleepJob(0.05, label: "a")
    let inner = Scheduler(sleepJob(0.05, label: "inner-job"), boomJob(0, label: "inner-boom", critical: false),
      label: "inner").requires(a)
    let top = Scheduler(a, inner, label: "top")
    let events = top.events()
    let collected = Task {
      var lines: [String] = []
      for await event in events {
        lines.append("\(event.depth) \(event.kindName) \(event.job.effectiveLabel) \(labels(event.path))")
      }
      return lines
    }
    let innerSeen = Log()
    inner.eventHandler = { innerSeen.append("\($0.kindName) \($0.job.effectiveLabel)") }
    #expect(try await top.run())
    let lines = await collected.value
    #expect(lines.first == "0 RUN START top [\"top\"]")
    #expect(lines.last == "0 RUN OK top [\"top\"]")
    #expect(lines.contains("0 STARTING a [\"top\"]"))
    #expect(lines.contains("0 DONE a [\"top\"]"))
    #expect(lines.contains("1 RUN START inner [\"top\", \"inner\"]"))
    #expect(lines.contains("1 DONE inner-job [\"top\", \"inner\"]"))
    #expect(lines.contains("1 RAISED inner-boom [\"top\", \"inner\"]"))
    #expect(lines.firstIndex(of: "0 DONE a [\"top\"]")! < lines.firstIndex(of: "0 STARTING inner [\"top\"]")!)
    #expect(innerSeen.all.contains("DONE inner-job") && !innerSeen.all.contains("DONE a"))
  }

  @Test func eventsCarryTimesAndCancellation() async throws {
    let kinds = Log()
    let forever = tickJob(0.02, label: "ticker")
    let scheduler = Scheduler(sleepJob(0.1, label: "finite"), forever)
    scheduler.eventHandler = { event in
      if event.job === forever { kinds.append(event.kindName) }
    }
    #expect(try await scheduler.run())
    #expect(kinds.all == ["SCHEDULED", "STARTING", "CANCELLED"])
    #expect(forever.endedAt! - forever.startedAt! >= .seconds(0.09))
  }

  @Test func retryEvents() async throws {
    let attempts = Counter()
    let flaky = Job(label: "flaky", retries: 1) {
      attempts.add(1)
      if attempts.current == 1 { throw BoomError(message: "first") }
      return nil
    }
    let scheduler = Scheduler(flaky)
    let kinds = Log()
    scheduler.eventHandler = { kinds.append($0.kindName) }
    #expect(try await scheduler.run())
    #expect(kinds.all == ["RUN START", "SCHEDULED", "STARTING", "RETRYING", "DONE", "RUN OK"])
  }
}
