import Testing

@testable import AsyncJobs

/// `ManualClock` on its own: time moves only when told, sleepers wake exactly when their deadline is
/// reached, cancellation removes them.
@Suite(.timeLimit(.minutes(1))) struct ManualClockTests {
  typealias Instant = ManualClock.Instant

  @Test func timeMovesOnlyWhenTold() {
    let clock = ManualClock()
    #expect(clock.now == .zero)
    #expect(clock.now == clock.now)
    clock.advance(by: .seconds(1.5))
    #expect(clock.now == Instant(offset: .seconds(1.5)))
    clock.advance(to: Instant(offset: .seconds(4)))
    #expect(clock.now.offset == .seconds(4))
    clock.advance(to: Instant(offset: .seconds(2)))  // never back
    clock.advance(by: .seconds(-1))
    #expect(clock.now.offset == .seconds(4))
    #expect(ManualClock(now: Instant(offset: .seconds(10))).now.offset == .seconds(10))
    #expect(clock.minimumResolution == .zero)
  }

  @Test func instantArithmetic() {
    let a = Instant(offset: .seconds(1))
    let b = a + .milliseconds(500)
    #expect(b.offset == .milliseconds(1500))
    #expect(b - a == .milliseconds(500))
    #expect(a.duration(to: b) == .milliseconds(500))
    #expect(b - .seconds(1) == Instant(offset: .milliseconds(500)))
    #expect(a < b && !(b < a))
    #expect(a.advanced(by: .zero) == a)
    #expect(Set([a, b, a + .zero]).count == 2)
    #expect("\(b)" == "ManualClock(+1.5 seconds)")
  }

  @Test func aReachedDeadlineReturnsAtOnce() async throws {
    let clock = ManualClock()
    clock.advance(by: .seconds(2))
    try await clock.sleep(until: Instant(offset: .seconds(1)), tolerance: nil)
    try await clock.sleep(until: clock.now, tolerance: nil)
    try await clock.sleep(for: .zero)
    #expect(clock.sleepers() == 0)
  }

  @Test func aSleeperWakesExactlyAtItsDeadline() async throws {
    let clock = ManualClock()
    let woke = Log()
    let sleeper = Task {
      try await clock.sleep(for: .seconds(1))
      woke.append("woke")
    }
    await clock.waitForSleepers(1)
    #expect(clock.sleepers() == 1)
    clock.advance(by: .milliseconds(999))
    // Waking removes the sleeper synchronously: it is still there, so it was not woken.
    #expect(clock.sleepers() == 1)
    #expect(woke.all.isEmpty)
    clock.advance(by: .milliseconds(1))
    #expect(clock.sleepers() == 0)
    try await sleeper.value
    #expect(woke.all == ["woke"])
  }

  @Test func advancingWakesOnlyTheDueSleepers() async throws {
    let clock = ManualClock()
    let woken = Log()
    let sleepers = (1...4).map { second in
      Task {
        try await clock.sleep(until: Instant(offset: .seconds(second)), tolerance: nil)
        woken.append("\(second)")
      }
    }
    await clock.waitForSleepers(4)
    clock.advance(to: Instant(offset: .seconds(2)))
    #expect(clock.sleepers() == 2)
    try await sleepers[0].value
    try await sleepers[1].value
    #expect(Set(woken.all) == ["1", "2"])
    clock.advance(by: .seconds(10))
    #expect(clock.sleepers() == 0)
    for sleeper in sleepers { try await sleeper.value }
    #expect(Set(woken.all) == ["1", "2", "3", "4"])
  }

  @Test func taskSleepUsesTheClock() async throws {
    let clock = ManualClock()
    let sleeper = Task { try await Task.sleep(until: .zero + .seconds(3600), clock: clock) }
    await clock.waitForSleepers(1)
    clock.advance(by: .seconds(3600))
    try await sleeper.value
    #expect(clock.now.offset == .seconds(3600))
  }

  @Test func cancellationThrowsAndRemovesTheSleeper() async throws {
    let clock = ManualClock()
    let sleeper = Task { try await clock.sleep(for: .seconds(60)) }
    await clock.waitForSleepers(1)
    sleeper.cancel()
    await #expect(throws: CancellationError.self) { try await sleeper.value }
    #expect(clock.sleepers() == 0)
    clock.advance(by: .seconds(120))  // a removed sleeper is not resumed twice
    #expect(clock.sleepers() == 0)
  }

  @Test func aCancelledTaskDoesNotSleep() async throws {
    let clock = ManualClock()
    let started = Gate()
    let sleeper = Task {
      try? await started.pass()
      try await clock.sleep(for: .seconds(60))
    }
    sleeper.cancel()
    started.open()
    await #expect(throws: CancellationError.self) { try await sleeper.value }
    #expect(clock.sleepers() == 0)
  }

  @Test func waitForSleepersReturnsAtOnceWhenEnoughSleep() async throws {
    let clock = ManualClock()
    await clock.waitForSleepers(0)
    let sleepers = (1...3).map { _ in Task { try await clock.sleep(for: .seconds(1)) } }
    await clock.waitForSleepers(3)
    await clock.waitForSleepers(2)
    #expect(clock.sleepers() == 3)
    clock.advance(by: .seconds(1))
    for sleeper in sleepers { try await sleeper.value }
  }

  @Test func waitForSleepersReturnsWhenCancelled() async {
    let clock = ManualClock()
    let waiter = Task {
      await clock.waitForSleepers(1)
      return clock.sleepers()
    }
    waiter.cancel()
    #expect(await waiter.value == 0)
  }

  @Test func manySleepersFromManyTasks() async throws {
    let clock = ManualClock()
    let count = 200
    try await withThrowingTaskGroup(of: Void.self) { group in
      for index in 0..<count {
        group.addTask { try await clock.sleep(for: .milliseconds(index % 10 + 1)) }
      }
      await clock.waitForSleepers(count)
      for _ in 1...10 { clock.advance(by: .milliseconds(1)) }
      try await group.waitForAll()
    }
    #expect(clock.sleepers() == 0)
    #expect(clock.now.offset == .milliseconds(10))
  }

  /// The example of `ManualClock`'s documentation.
  @Test func documentationExample() async throws {
    let clock = ManualClock()
    let slow = Job(label: "slow", timeout: .seconds(5)) { try await clock.sleep(for: .seconds(60)) }
    let scheduler = Scheduler(slow, critical: false, clock: clock)
    async let ok = scheduler.run()
    await clock.waitForSleepers(2)  // the job's body and its timeout timer
    clock.advance(by: .seconds(5))  // the timeout fires, not the 60 s sleep
    #expect(try await ok == false)
    #expect(slow.error as? JobTimeoutError == JobTimeoutError(job: "slow", timeout: .seconds(5)))
    #expect(clock.sleepers() == 0)  // the body's sleep was cancelled with it
  }

  @Test func worksAsAnExistentialClock() async throws {
    let manual = ManualClock()
    let clock: any Clock<Duration> = manual
    let sleep = clock.sleeper(after: .seconds(5))  // the deadline is fixed here, at 5 s
    manual.advance(by: .seconds(5))
    try await sleep()  // returns at once: the deadline is reached
    let later = clock.sleeper(after: .seconds(1))
    let task = Task { try await later() }
    await manual.waitForSleepers(1)
    manual.advance(by: .seconds(1))
    try await task.value
    #expect(manual.now.offset == .seconds(6))
  }
}
