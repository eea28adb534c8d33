import Testing

@testable import AsyncJobs

/// Reference §3.4 (test_nesting.py) and §3.6 (test_shutdown.py). Order is checked on the events of
/// the outermost scheduler (nested ones' included); shutdown delays and bounds run on a
/// `ManualClock`.
@Suite(.timeLimit(.minutes(1))) struct NestingTests {
  /// A diamond: top, then left and right (which wait at `gate`), then bottom.
  func diamond(label: String, gate: Gate) -> Scheduler {
    let top = quick("\(label)-top")
    let left = gated("\(label)-left", gate, requires: [top])
    let right = gated("\(label)-right", gate, requires: [top])
    let bottom = quick("\(label)-bottom", requires: [left, right])
    return Scheduler(top, left, right, bottom, label: label)
  }

  @Test func nesting1() async throws {
    let gate = Gate()
    let sub = Scheduler(gated("s1", gate), gated("s2", gate), label: "subscheduler")
    let main = Scheduler(JobSequence(quick("first"), sub, quick("last")))
    let recorder = EventRecorder(main)
    async let ok = main.run()
    try await gate.waitForArrivals(2)  // the nested jobs run together
    #expect(main.jobs[2].isIdle)
    gate.open()
    #expect(try await ok)
    let lines = await recorder.all()
    #expect(
      inOrder(
        lines, "DONE first", "STARTING subscheduler", "RUN START subscheduler", "DONE s1",
        "RUN OK subscheduler", "DONE subscheduler", "STARTING last", "DONE last"))
    #expect(inOrder(lines, "RUN START subscheduler", "DONE s2", "RUN OK subscheduler"))
    #expect(sub.isDone && sub.result as? Bool == true)
  }

  @Test func nesting2and3() async throws {
    let gate = Gate()
    let mainj1 = quick("mainj1")
    let sub2 = diamond(label: "sub2", gate: gate).requires(mainj1)
    let sub3 = diamond(label: "sub3", gate: gate).requires(mainj1)
    let mainj4 = quick("mainj4", requires: [sub2, sub3])
    let main = Scheduler(mainj1, sub2, sub3, mainj4)
    #expect(main.sanitize() && sub2.sanitize() && sub3.sanitize())
    #expect(main.list(symbols: .unicode).contains("<Scheduler `sub3`>"))
    let recorder = EventRecorder(main)
    async let ok = main.run()
    try await gate.waitForArrivals(4)  // both diamonds' middles run at once
    gate.open()
    #expect(try await ok)
    let lines = await recorder.all()
    for sub in ["sub2", "sub3"] {
      #expect(inOrder(lines, "DONE mainj1", "STARTING \(sub)", "DONE \(sub)-top", "STARTING \(sub)-left"))
      #expect(inOrder(lines, "DONE \(sub)-top", "STARTING \(sub)-right"))
      #expect(inOrder(lines, "DONE \(sub)-left", "STARTING \(sub)-bottom", "DONE \(sub)-bottom", "DONE \(sub)"))
      #expect(inOrder(lines, "DONE \(sub)-right", "STARTING \(sub)-bottom"))
      #expect(inOrder(lines, "DONE \(sub)", "STARTING mainj4"))
    }
    #expect(main.allJobs().allSatisfy { $0.isDone })
  }

  @Test func nestingSequenceForeverSubScheduler() async throws {
    let subjob = Scheduler(
      JobSequence(quick("sub1"), quick("sub2"), quick("sub3")), critical: true, forever: true,
      label: "sub-scheduler\non several lines")
    let end = quick("END")
    let main = Scheduler(JobSequence(quick("job-label"), subjob, end))
    let recorder = EventRecorder(main)
    #expect(try await main.run())
    let lines = await recorder.all()
    #expect(
      inOrder(
        lines, "DONE job-label", "DONE sub1", "DONE sub2", "DONE sub3",
        "DONE sub-scheduler\non several lines", "STARTING END", "DONE END"))
    #expect(end.isDone)
  }

  @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
  func criticalOneLevel(schedulerCritical: Bool, jobCritical: Bool) async throws {
    let job = boom("boom", "boom after 0.0s", critical: jobCritical)
    let scheduler = Scheduler(job, critical: schedulerCritical)
    if schedulerCritical && jobCritical {
      await #expect(throws: BoomError(message: "boom after 0.0s")) { try await scheduler.run() }
    } else {
      #expect(try await scheduler.run() == !jobCritical)
    }
  }

  @Test(arguments: [
    (false, false, false, true), (false, false, true, true), (false, true, false, true),
    (false, true, true, false), (true, false, false, true), (true, false, true, true),
    (true, true, false, true),
  ])
  func criticalTwoLevels(outer: Bool, inner: Bool, job: Bool, expected: Bool) async throws {
    let innerScheduler = Scheduler(boom("boom", critical: job), critical: inner, label: "inner")
    // `other` outlives the inner run: it ends only once the inner run has finished.
    let innerEnded = Gate()
    let other = gated("other", innerEnded)
    let outerScheduler = Scheduler(innerScheduler, other, critical: outer)
    outerScheduler.eventHandler = { event in
      if case .runFinished = event.kind, event.job === innerScheduler { innerEnded.open() }
    }
    #expect(try await outerScheduler.run() == expected)
    if expected { #expect(other.isDone) }  // not aborted: the run waited for `other`
  }

  @Test func criticalTwoLevelsRethrowsTheSameError() async throws {
    final class Marker: Error, @unchecked Sendable {}
    let marker = Marker()
    let otherGate = Gate()  // never opened: only the abort ends `other`
    let inner = Scheduler(
      Job(label: "boom") {
        try await otherGate.waitForArrivals(1)
        throw marker
      }, label: "inner")
    let other = gated("other", otherGate)
    let outer = Scheduler(inner, other)
    do {
      _ = try await outer.run()
      Issue.record("should throw")
    } catch {
      #expect(error as? Marker === marker)
    }
    #expect(other.wasCancelled && other.isRunning)
    #expect(inner.resultText.hasPrefix("!! CRIT. EXC. => Marker:"))
  }

  // MARK: - Shutdown (test_shutdown.py)

  /// Counts +1 when its body ends (after waiting at `gate`, if any), -1 at shutdown if done (after
  /// sleeping `shutdownDelay` on `clock`, unless cancelled).
  final class CounterJob: AbstractJob, @unchecked Sendable {
    let counter: Counter
    let gate: Gate?
    let shutdownDelay: Duration?
    let clock: ManualClock?

    init(
      _ counter: Counter, gate: Gate? = nil, shutdownDelay: Duration? = nil, clock: ManualClock? = nil,
      label: String? = nil
    ) {
      self.counter = counter
      self.gate = gate
      self.shutdownDelay = shutdownDelay
      self.clock = clock
      super.init(label: label)
    }

    override func run() async throws -> (any Sendable)? {
      try await gate?.pass()
      counter.add(1)
      return nil
    }

    override func shutdown() async {
      guard isDone else { return }
      if let shutdownDelay, let clock {
        do { try await clock.sleep(for: shutdownDelay) } catch { return }
      }
      counter.add(-1)
    }
  }

  @Test func shutdownSimple() async throws {
    let counter = Counter()
    let jobs = (1...4).map { CounterJob(counter, label: "c\($0)") }
    let scheduler = Scheduler(JobSequence(jobs), critical: false)
    let recorder = EventRecorder(scheduler)
    #expect(try await scheduler.run())
    #expect(jobs.allSatisfy { $0.isDone })
    #expect(counter.current == 0)
    #expect(await recorder.all().filter { $0.hasPrefix("DONE") } == (1...4).map { "DONE c\($0)" })
  }

  @Test func shutdownTimeout() async throws {
    let clock = ManualClock()
    let counter = Counter()
    let gate = Gate()
    let jobs = (1...4).map { CounterJob(counter, gate: $0 == 3 ? gate : nil, label: "c\($0)") }
    let scheduler = Scheduler(JobSequence(jobs), timeout: .seconds(0.5), critical: false, clock: clock)
    async let ok = scheduler.run()
    try await gate.waitForArrivals(1)
    #expect(counter.current == 2)
    clock.advance(by: .seconds(0.5))
    #expect(try await ok == false)
    #expect(jobs[0].isDone && jobs[1].isDone && !jobs[2].isDone && jobs[2].wasCancelled && jobs[3].isIdle)
    #expect(counter.current == 0)  // the two done jobs were shut down
  }

  @Test(arguments: [nil, 0.5] as [Double?]) func shutdownNested(timeout: Double?) async throws {
    let clock = ManualClock()
    let counter = Counter()
    let gate = Gate()
    let subs = (0..<3).map { i in
      Scheduler(
        JobSequence(
          (0..<3).map { j in
            // With a timeout, the run stops in sub1's second job.
            CounterJob(counter, gate: timeout != nil && i == 1 && j == 1 ? gate : nil, label: "c\(i)\(j)")
          }), label: "sub\(i)")
    }
    let top = Scheduler(
      JobSequence(subs), timeout: timeout.map { .seconds($0) }, critical: false, label: "OUT", clock: clock)
    async let ok = top.run()
    if let timeout {
      try await gate.waitForArrivals(1)
      #expect(counter.current == 1)  // sub0 ran and shut its 3 jobs down; c10 ran
      clock.advance(by: .seconds(timeout))
    }
    #expect(try await ok == (timeout == nil))
    #expect(counter.current == 0)  // every done job was shut down, nested ones included
    if timeout != nil {
      #expect(subs[0].isDone && subs[1].isRunning && subs[2].isIdle)
      #expect(subs[0].jobs.allSatisfy { $0.isDone } && subs[1].jobs[0].isDone && subs[1].jobs[1].wasCancelled)
    } else {
      #expect(top.allJobs().allSatisfy { $0.isDone })
    }
  }

  /// Two pipes of 4 jobs; pipe A's shutdowns take 0.2 s, pipe B's 1 s (on the manual clock). With a
  /// timeout, the run stops while the third job of each pipe runs.
  @Test(
    arguments: [
      (nil, 0.1, 8), (nil, 0.4, 4), (nil, 1.4, 0), (0.5, 0.1, 4), (0.5, 0.4, 2), (0.5, 1.4, 0),
    ] as [(Double?, Double, Int)])
  func shutdownTimeoutMatrix(timeout: Double?, shutdownTimeout: Double, expected: Int) async throws {
    let clock = ManualClock()
    let counter = Counter()
    let gate = Gate()
    func pipe(_ name: String, shutdownDelay: Double) -> [CounterJob] {
      (1...4).map {
        CounterJob(
          counter, gate: timeout != nil && $0 == 3 ? gate : nil, shutdownDelay: .seconds(shutdownDelay),
          clock: clock, label: "\(name)\($0)")
      }
    }
    let scheduler = Scheduler(
      JobSequence(pipe("A", shutdownDelay: 0.2)), JobSequence(pipe("B", shutdownDelay: 1.0)),
      timeout: timeout.map { .seconds($0) }, shutdownTimeout: .seconds(shutdownTimeout), critical: false,
      clock: clock)
    async let ok = scheduler.run()
    defer { release(clock) }
    if let timeout {
      try await gate.waitForArrivals(2)
      clock.advance(by: .seconds(timeout))
    }
    let origin = clock.now  // the shutdown phase starts now
    let donePerPipe = timeout == nil ? 4 : 2
    // Every done job's shutdown sleeps, and so does the shutdown bound.
    await clock.waitForSleepers(2 * donePerPipe + 1)
    #expect(counter.current == 2 * donePerPipe)
    // Pipe A's shutdowns end at +0.2 s, pipe B's at +1 s, if the bound has not expired: one at a time.
    var left = 2 * donePerPipe
    for due in [0.2, 1.0] where due < shutdownTimeout {
      clock.advance(to: origin + .seconds(due))
      left -= donePerPipe
      try await counter.wait(for: left)
    }
    if shutdownTimeout < 1.0 { clock.advance(to: origin + .seconds(shutdownTimeout)) }
    // The run returns without more time passing: once the bound expires, or once the last shutdown
    // ended (before the bound).
    #expect(try await ok == (timeout == nil))
    #expect(counter.current == expected)
    #expect(clock.sleepers() == 0)  // the late shutdowns were cancelled, or the bound's timer was
  }

  @Test func shutdownRunsOncePerRunAndOnEveryPath() async throws {
    let log = Log()
    let job = Job(label: "ok", shutdown: { log.append("shutdown ok") }) { 1 }
    let boom = Job(label: "boom", shutdown: { log.append("shutdown boom") }) { throw BoomError(message: "x") }
    let idle = Job(label: "idle", requires: [boom], shutdown: { log.append("shutdown idle") }) { 2 }
    let scheduler = Scheduler(job, boom, idle, critical: false)
    #expect(try await scheduler.run() == false)
    #expect(Set(log.all) == ["shutdown ok", "shutdown boom", "shutdown idle"])
    #expect(log.all.count == 3)
  }
}
