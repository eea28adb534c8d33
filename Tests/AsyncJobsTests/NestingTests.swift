import Testing

@testable import AsyncJobs

/// Reference §3.4 (test_nesting.py) and §3.6 (test_shutdown.py).
@Suite struct NestingTests {
  /// A diamond of total duration `d`: top d/4, then two of d/2 in parallel, then bottom d/4.
  func diamond(_ d: Double, label: String) -> Scheduler {
    let top = sleepJob(d / 4, label: "\(label)-top")
    let left = sleepJob(d / 2, label: "\(label)-left", requires: [top])
    let right = sleepJob(d / 2, label: "\(label)-right", requires: [top])
    let bottom = sleepJob(d / 4, label: "\(label)-bottom", requires: [left, right])
    return Scheduler(top, left, right, bottom, label: label)
  }

  @Test func nesting1() async throws {
    let sub = Scheduler(sleepJob(0.25), sleepJob(0.5), label: "subscheduler")
    let main = Scheduler(JobSequence(sleepJob(0.25), sub, sleepJob(0.25)))
    let (ok, time) = try await timed { try await main.run() }
    #expect(ok)
    #expect(about(time, 1.0))
    #expect(sub.isDone && sub.result as? Bool == true)
  }

  @Test func nesting2and3() async throws {
    let mainj1 = sleepJob(0.25, label: "mainj1")
    let sub2 = diamond(0.25, label: "sub2").requires(mainj1)
    let sub3 = diamond(0.5, label: "sub3").requires(mainj1)
    let mainj4 = sleepJob(0.25, label: "mainj4", requires: [sub2, sub3])
    let main = Scheduler(mainj1, sub2, sub3, mainj4)
    #expect(main.sanitize() && sub2.sanitize() && sub3.sanitize())
    #expect(main.list(symbols: .unicode).contains("<Scheduler `sub3`>"))
    let (ok, time) = try await timed { try await main.run() }
    #expect(ok)
    #expect(about(time, 1.0))
    #expect(main.allJobs().allSatisfy { $0.isDone })
  }

  @Test func nestingSequenceForeverSubScheduler() async throws {
    let subjob = Scheduler(
      JobSequence(sleepJob(0.1), sleepJob(0.1), sleepJob(0.1)), critical: true, forever: true,
      label: "sub-scheduler\non several lines")
    let end = sleepJob(0.1, label: "END")
    let main = Scheduler(JobSequence(sleepJob(0.1, label: "job-label"), subjob, end))
    let (ok, time) = try await timed { try await main.run() }
    #expect(ok)
    #expect(about(time, 0.5))
    #expect(end.isDone)
  }

  @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
  func criticalOneLevel(schedulerCritical: Bool, jobCritical: Bool) async throws {
    let job = boomJob(0, label: "boom", critical: jobCritical)
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
    let innerScheduler = Scheduler(boomJob(0, label: "boom", critical: job), critical: inner, label: "inner")
    let outerScheduler = Scheduler(innerScheduler, sleepJob(0.3, label: "other"), critical: outer)
    #expect(try await outerScheduler.run() == expected)
  }

  @Test func criticalTwoLevelsRethrowsTheSameError() async throws {
    final class Marker: Error, @unchecked Sendable {}
    let marker = Marker()
    let inner = Scheduler(
      Job(label: "boom") {
        try await Task.sleep(for: .seconds(0.05))
        throw marker
      }, label: "inner")
    let other = sleepJob(0.3, label: "other")
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

  /// Counts +1 when done, -1 at shutdown if done (after `shutdownDelay`, unless cancelled).
  final class CounterJob: AbstractJob, @unchecked Sendable {
    let counter: Counter
    let delay: Double
    let shutdownDelay: Double

    init(_ counter: Counter, _ delay: Double, shutdownDelay: Double = 0, label: String? = nil) {
      self.counter = counter
      self.delay = delay
      self.shutdownDelay = shutdownDelay
      super.init(label: label)
    }

    override func run() async throws -> (any Sendable)? {
      try await Task.sleep(for: .seconds(delay))
      counter.add(1)
      return nil
    }

    override func shutdown() async {
      guard isDone else { return }
      do {
        try await Task.sleep(for: .seconds(shutdownDelay))
        counter.add(-1)
      } catch {}
    }
  }

  @Test func shutdownSimple() async throws {
    let counter = Counter()
    let jobs = (1...4).map { CounterJob(counter, Double($0) / 20) }
    let scheduler = Scheduler(JobSequence(jobs), critical: false)
    #expect(try await scheduler.run())
    #expect(jobs.allSatisfy { $0.isDone })
    #expect(counter.current == 0)
  }

  @Test func shutdownTimeout() async throws {
    let counter = Counter()
    let jobs = (1...4).map { CounterJob(counter, Double($0) / 10) }
    let scheduler = Scheduler(JobSequence(jobs), timeout: .seconds(0.5), critical: false)
    #expect(try await scheduler.run() == false)
    #expect(jobs[0].isDone && jobs[1].isDone && !jobs[2].isDone)
    #expect(counter.current == 0)
  }

  @Test(arguments: [nil, 0.5] as [Double?]) func shutdownNested(timeout: Double?) async throws {
    let counter = Counter()
    let subs = (0..<3).map { i in
      Scheduler(JobSequence((0..<3).map { j in CounterJob(counter, Double(i + j) / 10) }), label: "sub\(i)")
    }
    let top = Scheduler(
      JobSequence(subs), timeout: timeout.map { .seconds($0) }, critical: false, label: "OUT")
    let (ok, time) = try await timed { try await top.run() }
    #expect(ok == (timeout == nil))
    #expect(about(time, timeout ?? 1.8))
    #expect(counter.current == 0)
    if timeout != nil {
      #expect(subs[0].isDone && subs[1].isRunning && subs[2].isIdle)
    }
  }

  /// Two pipes of 4 jobs of 0.2 s; pipe A's shutdown takes 0.2 s, pipe B's 1 s.
  @Test(arguments: [
    (nil, 0.1, 8), (nil, 0.4, 4), (nil, 1.4, 0), (0.5, 0.1, 4), (0.5, 0.4, 2), (0.5, 1.4, 0),
  ] as [(Double?, Double, Int)])
  func shutdownTimeoutMatrix(timeout: Double?, shutdownTimeout: Double, expected: Int) async throws {
    let counter = Counter()
    let pipeA = (1...4).map { CounterJob(counter, 0.2, shutdownDelay: 0.2, label: "A\($0)") }
    let pipeB = (1...4).map { CounterJob(counter, 0.2, shutdownDelay: 1.0, label: "B\($0)") }
    let scheduler = Scheduler(
      JobSequence(pipeA), JobSequence(pipeB), timeout: timeout.map { .seconds($0) },
      shutdownTimeout: .seconds(shutdownTimeout), critical: false)
    let (ok, time) = try await timed { try await scheduler.run() }
    #expect(ok == (timeout == nil))
    #expect(counter.current == expected)
    let shutdown = min(shutdownTimeout, 1.0)
    #expect(about(time, (timeout ?? 0.8) + shutdown))
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
