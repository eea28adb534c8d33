import Synchronization
import Testing

@testable import AsyncJobs

/// The Python quirks fixed here, and the additions: per-job timeout, retries, events. Timeouts and
/// retry delays run on a `ManualClock`; no assertion here depends on the machine's speed.
@Suite(.timeLimit(.minutes(1))) struct QuirksTests {
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
    let clock = ManualClock()
    let stuckGate = Gate()  // a shutdown stuck in a wait that cancellation does not end
    let stuck = Job(label: "stuck", shutdown: { await stuckGate.passIgnoringCancellation() }) { 1 }
    let scheduler = Scheduler(stuck, shutdownTimeout: .milliseconds(200), critical: false, clock: clock)
    async let ok = scheduler.run()
    defer { release(clock, stuckGate) }
    try await stuckGate.waitForArrivals(1)  // the bound was fixed before shutdown() was called
    await clock.waitForSleepers(1)
    clock.advance(by: .milliseconds(199))
    #expect(clock.sleepers() == 1, "the shutdown bound expired early")
    clock.advance(by: .milliseconds(1))
    #expect(try await ok, "run() waited for the stuck shutdown")
    #expect(stuck.isDone && stuck.result as? Int == 1)
  }

  @Test func windowSlotFreedAfterThrow() async throws {
    let failing = boom("fails", critical: false)
    let others = (1...3).map { quick("after\($0)") }
    let scheduler = Scheduler([failing] + others, jobsWindow: 1, critical: false)
    let recorder = EventRecorder(scheduler)
    #expect(try await scheduler.run())
    #expect(others.allSatisfy { $0.isDone })
    let lines = await recorder.all()
    #expect(inOrder(lines, "RAISED fails", "STARTING after1", "DONE after1", "STARTING after2"))
    #expect(maxConcurrency(lines, among: labelSet([failing] + others)) == 1)
  }

  @Test func windowSlotFreedAfterTimeoutOfJob() async throws {
    let clock = ManualClock()
    let slow = gated("slow", Gate(), critical: false, timeout: .seconds(0.1))  // never let through
    let next = quick("next")
    let scheduler = Scheduler(slow, next, jobsWindow: 1, clock: clock)
    let recorder = EventRecorder(scheduler)
    async let ok = scheduler.run()
    try await recorder.wait(for: "STARTING slow")  // its deadline is fixed before this event
    clock.advance(by: .seconds(0.1))
    #expect(try await ok && next.isDone)
    #expect(slow.error as? JobTimeoutError == JobTimeoutError(job: "slow", timeout: .seconds(0.1)))
    #expect(inOrder(await recorder.all(), "STARTING slow", "RAISED slow", "STARTING next", "DONE next"))
  }

  @Test func scheduledJobsWaitForASlotInOrder() async throws {
    let log = Log()
    let gate = Gate()
    let jobs = (1...6).map { index in
      Job(label: "j\(index)") {
        log.append("j\(index)")
        try await gate.pass()
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
    let recorder = EventRecorder(scheduler)
    async let ok = scheduler.run()
    try await gate.waitForArrivals(2)
    #expect(Set(log.all) == ["j1", "j2"])
    gate.open()
    #expect(try await ok)
    #expect(Set(log.all) == Set((1...6).map { "j\($0)" }) && log.all.count == 6)
    let lines = await recorder.all()
    #expect(lines.filter { $0.hasPrefix("STARTING") } == (1...6).map { "STARTING j\($0)" })
    #expect(maxConcurrency(lines, among: labelSet(jobs)) == 2)
    #expect(statuses.all == ["running,scheduled,scheduled,scheduled,scheduled,scheduled"])
  }

  @Test func cancellationReachesNestedJobs() async throws {
    let gate = Gate()  // never opened: only cancellation ends the jobs
    let inner = gated("inner", gate)
    let innerShutdown = Counter()
    let watched = Job(label: "watched", shutdown: { innerShutdown.add(1) }) {
      try await gate.pass()
      return nil
    }
    let nested = Scheduler(inner, watched, label: "nested")
    let deeper = Scheduler(Scheduler(gated("deepest", gate), label: "level2"), label: "level1")
    let top = Scheduler(nested, deeper, gated("top-level", gate))
    let task = Task { try await top.run() }
    try await gate.waitForArrivals(4)
    #expect(inner.isRunning)
    task.cancel()
    await #expect(throws: CancellationError.self) { try await task.value }
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
    let gate = Gate()
    let scheduler = Scheduler(gated("job", gate), label: "busy")
    async let running = scheduler.run()
    try await gate.waitForArrivals(1)
    await #expect(throws: SchedulerError.alreadyRunning(scheduler: "busy")) { try await scheduler.run() }
    #expect(scheduler.isRunningNow)
    gate.open()
    #expect(try await running)
    #expect(!scheduler.isRunningNow)
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
    // The deadline is the start itself: reached without the manual clock moving.
    let scheduler = Scheduler(gated("stuck", Gate()), timeout: .zero, critical: false, clock: ManualClock())
    #expect(try await scheduler.run() == false)
    #expect(scheduler.why() == "TIMED OUT after 0s")
    let critical = Scheduler(gated("stuck", Gate()), timeout: .zero, label: "zero", clock: ManualClock())
    await #expect(throws: SchedulerTimeoutError(scheduler: "zero", timeout: .zero)) { try await critical.run() }
  }

  @Test func criticalSchedulerTimeoutError() async throws {
    let clock = ManualClock()
    let gate = Gate()
    let scheduler = Scheduler(gated("slow", gate), timeout: .seconds(0.1), label: "slow one", clock: clock)
    let run = Task { try await scheduler.run() }
    try await gate.waitForArrivals(1)
    clock.advance(by: .seconds(0.1))
    do {
      _ = try await run.value
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
    let clock = ManualClock()
    let slow = gated("slow", Gate(), value: 1, timeout: .seconds(0.2))  // never let through
    let scheduler = Scheduler(slow, critical: false, clock: clock)
    let recorder = EventRecorder(scheduler)
    async let ok = scheduler.run()
    try await recorder.wait(for: "STARTING slow")  // the attempt's deadline is fixed before this event
    await clock.waitForSleepers(1)  // the attempt's timer
    clock.advance(by: .milliseconds(199))
    #expect(clock.sleepers() == 1, "the job's timeout expired early")
    #expect(slow.isRunning)
    clock.advance(by: .milliseconds(1))
    #expect(try await ok == false)
    #expect(slow.isDone && slow.error as? JobTimeoutError == JobTimeoutError(job: "slow", timeout: .seconds(0.2)))
    #expect(inOrder(await recorder.all(), "STARTING slow", "RAISED slow", "RUN FAILED NOLABEL"))

    let criticalClock = ManualClock()
    let gate = Gate()
    let critical = Scheduler(gated("slow", gate, timeout: .seconds(0.1)), clock: criticalClock)
    let run = Task { try await critical.run() }
    try await gate.waitForArrivals(1)
    criticalClock.advance(by: .seconds(0.1))
    await #expect(throws: JobTimeoutError(job: "slow", timeout: .seconds(0.1))) { try await run.value }

    let fastClock = ManualClock()  // never advanced: the timeout cannot fire
    let fast = Job(label: "fast", timeout: .seconds(1)) { 42 }
    #expect(try await Scheduler(fast, clock: fastClock).run())
    #expect(fast.result as? Int == 42)
    #expect(fastClock.sleepers() == 0)  // its timer was cancelled with the attempt
  }

  @Test func retries() async throws {
    let clock = ManualClock()
    let attempts = Counter()
    let flaky = Job(label: "flaky", retries: 2, retryDelay: .seconds(0.1)) {
      attempts.add(1)
      if attempts.current < 3 { throw BoomError(message: "attempt \(attempts.current)") }
      return "ok"
    }
    let scheduler = Scheduler(flaky, clock: clock)
    let recorder = EventRecorder(scheduler)
    async let ok = scheduler.run()
    for attempt in 1...2 {
      try await recorder.wait(for: "RETRYING flaky", count: attempt)  // the wake-up time is fixed
      clock.advance(by: .milliseconds(99))
      #expect(attempts.current == attempt, "retried before the delay")
      clock.advance(by: .milliseconds(1))
    }
    #expect(try await ok)
    #expect(flaky.result as? String == "ok" && flaky.attempts == 3 && flaky.error == nil)
    #expect(attempts.current == 3)
    #expect(inOrder(await recorder.all(), "STARTING flaky", "RETRYING flaky", "RETRYING flaky", "DONE flaky"))

    let tries = Counter()
    let hopeless = Job(label: "hopeless", critical: false, retries: 1) {
      tries.add(1)
      throw BoomError(message: "again")
    }
    #expect(try await Scheduler(hopeless).run())
    #expect(tries.current == 2 && hopeless.error as? BoomError == BoomError(message: "again"))

    let timeoutClock = ManualClock()
    let gate = Gate()  // never opened: each attempt times out
    let retryTimeout = gated("retry timeout", gate, critical: false, timeout: .seconds(0.1))
    retryTimeout.retries = 1
    let retryScheduler = Scheduler(retryTimeout, clock: timeoutClock)
    let retryRecorder = EventRecorder(retryScheduler)
    async let retried = retryScheduler.run()
    try await gate.waitForArrivals(1)  // attempt 1's deadline is fixed before `.started`
    timeoutClock.advance(by: .seconds(0.1))
    try await gate.waitForArrivals(2)  // attempt 2's, before its body starts
    timeoutClock.advance(by: .seconds(0.1))
    #expect(try await retried)
    #expect(retryTimeout.attempts == 2)
    #expect(retryTimeout.error as? JobTimeoutError == JobTimeoutError(job: "retry timeout", timeout: .seconds(0.1)))
    #expect(inOrder(await retryRecorder.all(), "RETRYING retry timeout", "RAISED retry timeout"))
  }

  /// The run's deadline, a job's timeout, its retry delay and the shutdown bound all sleep on the
  /// outermost scheduler's clock, nested schedulers included: an hour each, passed in no time. (A
  /// decision made on another clock would leave `waitForSleepers` waiting: the time limit fails it.)
  @Test func everyTimingDecisionUsesTheOutermostClock() async throws {
    let clock = ManualClock()
    let hour = Duration.seconds(3600)
    let attempts = Counter()
    let gate = Gate()  // never opened: attempt 2 waits until its timeout
    let stuck = Gate()  // the shutdown ignores cancellation until the end of the test
    let job = Job(
      label: "job", critical: false, timeout: hour, retries: 1, retryDelay: hour,
      shutdown: { await stuck.passIgnoringCancellation() }
    ) {
      attempts.add(1)
      if attempts.current == 1 { throw BoomError(message: "first") }
      try await gate.pass()
      return nil
    }
    let nested = Scheduler(job, timeout: hour * 4, shutdownTimeout: hour, label: "nested")  // ContinuousClock
    let top = Scheduler(nested, critical: false, clock: clock)
    let recorder = EventRecorder(top)
    async let ok = top.run()
    defer { release(clock, stuck) }
    try await recorder.wait(for: "RETRYING job")
    await clock.waitForSleepers(2)  // nested's deadline (4 h), the retry's wake-up (1 h)
    clock.advance(by: hour)
    try await gate.waitForArrivals(1)
    await clock.waitForSleepers(2)  // nested's deadline, attempt 2's timeout (2 h)
    clock.advance(by: hour)
    try await stuck.waitForArrivals(1)
    await clock.waitForSleepers(1)  // nested's shutdown bound (3 h); its deadline ended with its loop
    clock.advance(by: hour)
    #expect(try await ok)
    #expect(job.attempts == 2 && job.error as? JobTimeoutError == JobTimeoutError(job: "job", timeout: hour))
    #expect(!nested.failedTimeout && clock.sleepers() == 0)
    #expect(clock.now.offset == hour * 3)
    #expect(inOrder(await recorder.all(), "RETRYING job", "RAISED job", "RUN OK nested", "RUN OK NOLABEL"))
  }

  // MARK: - Events

  @Test func eventsOfNestedSchedulersReachTheTop() async throws {
    let a = quick("a")
    let inner = Scheduler(quick("inner-job"), boom("inner-boom", critical: false), label: "inner").requires(a)
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
    let times = Mutex<[ContinuousClock.Instant]>([])
    let foreverGate = Gate()  // never opened
    let forever = gated("ticker", foreverGate, forever: true)
    let finite = Job(label: "finite") { try await foreverGate.waitForArrivals(1) }
    let scheduler = Scheduler(finite, forever)
    scheduler.eventHandler = { event in
      times.withLock { $0.append(event.time) }
      if event.job === forever { kinds.append(event.kindName) }
    }
    #expect(try await scheduler.run())
    #expect(kinds.all == ["SCHEDULED", "STARTING", "CANCELLED"])
    // Wall-clock records, taken in order by the run loop.
    #expect(forever.endedAt! >= finite.endedAt! && finite.endedAt! >= finite.startedAt!)
    #expect(forever.startedAt! <= forever.endedAt!)
    let stamps = times.withLock { $0 }
    #expect(stamps.count == 8 && zip(stamps, stamps.dropFirst()).allSatisfy { $0 <= $1 })
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
