import Testing

@testable import AsyncJobs

/// Smoke tests on the real `ContinuousClock`: a run does not wait for what its timeouts cut short.
/// One-sided and generous bounds only (a loaded machine makes runs slower, never faster): what is
/// cut short waits 30 s, the bound is 20 s (3.2 s seen at worst, with 8 busy loops on 2 cores and
/// the 50,000-job chain of QuirksTests running at the same time). Serialized so that they do not
/// compete with each other. The scheduler's logic is tested deterministically on a `ManualClock`
/// elsewhere.
@Suite(.serialized, .timeLimit(.minutes(1))) struct RealClockTests {
  /// The time since `start`.
  func elapsed(since start: ContinuousClock.Instant) -> Duration {
    ContinuousClock.now - start
  }

  /// A job that sleeps 30 s, far longer than any bound below.
  func long(_ label: String) -> Job {
    Job(label: label) { try await Task.sleep(for: .seconds(30)) }
  }

  @Test func runTimeoutDoesNotWaitForTheJobs() async throws {
    let scheduler = Scheduler(long("long"), timeout: .seconds(0.2), critical: false)
    let start = ContinuousClock.now
    #expect(try await scheduler.run() == false)
    let time = elapsed(since: start)
    #expect(time < .seconds(20), "the run waited for its 30 s job")
    #expect(scheduler.failedTimeout)
  }

  @Test func jobTimeoutDoesNotWaitForTheBody() async throws {
    let job = long("long")
    job.timeout = .seconds(0.2)
    let scheduler = Scheduler(job, critical: false)
    let start = ContinuousClock.now
    #expect(try await scheduler.run() == false)
    let time = elapsed(since: start)
    #expect(time < .seconds(20), "the run waited for its 30 s job")
    #expect(job.error as? JobTimeoutError == JobTimeoutError(job: "long", timeout: .seconds(0.2)))
  }

  @Test func shutdownTimeoutDoesNotWaitForAStuckShutdown() async throws {
    let stuckGate = Gate()  // opened at the end only: a shutdown that ignores cancellation
    defer { stuckGate.open() }
    let stuck = Job(label: "stuck", shutdown: { await stuckGate.passIgnoringCancellation() }) { 1 }
    let scheduler = Scheduler(stuck, shutdownTimeout: .seconds(0.2), critical: false)
    let start = ContinuousClock.now
    #expect(try await scheduler.run())
    let time = elapsed(since: start)
    #expect(time < .seconds(20), "the run waited for the stuck shutdown")
  }

  @Test func foreverJobsDoNotHoldTheRun() async throws {
    let forever = long("forever")
    forever.forever = true
    let scheduler = Scheduler(quick("finite"), forever)
    let start = ContinuousClock.now
    #expect(try await scheduler.run())
    let time = elapsed(since: start)
    #expect(time < .seconds(20), "the run waited for its forever job")
    #expect(forever.wasCancelled)
  }

  @Test func cancellationDoesNotWaitForNestedJobs() async throws {
    let gate = Gate()
    let started = Job(label: "started") { try await gate.pass() }
    let top = Scheduler(Scheduler(long("nested"), started, label: "inner"), long("top"))
    let run = Task { try await top.run() }
    try await gate.waitForArrivals(1)
    let start = ContinuousClock.now
    run.cancel()
    await #expect(throws: CancellationError.self) { try await run.value }
    let time = elapsed(since: start)
    #expect(time < .seconds(20), "cancelling the run waited for its 30 s jobs")
  }

  @Test func retryDelayIsWaited() async throws {
    let attempts = Counter()
    let flaky = Job(label: "flaky", retries: 1, retryDelay: .milliseconds(50)) {
      attempts.add(1)
      if attempts.current == 1 { throw BoomError(message: "first") }
      return nil
    }
    let start = ContinuousClock.now
    #expect(try await Scheduler(flaky).run())
    let time = elapsed(since: start)
    #expect(time >= .milliseconds(50), "the retry did not wait for its delay")
    #expect(attempts.current == 2)
  }
}
