import Synchronization

/// A clock whose time only moves when told to, for tests: give it to a `Scheduler` (`clock:`) and
/// its timeouts, retry delays and shutdown bound fire exactly when the test advances the clock past
/// them, however slow or loaded the machine is.
///
/// Time starts at `.zero` and moves with `advance(by:)` or `advance(to:)` (as SwiftNIO's
/// `EmbeddedEventLoop.advanceTime`): every sleeper whose deadline is reached is resumed, in deadline
/// order. Resuming is not running: the woken tasks run afterwards, concurrently. To see the effects
/// of one deadline before the next fires, advance to the first one, wait for its effect (an event,
/// a gate), then advance again.
///
/// A test must not advance time before the timer it means to fire exists: wait for the event that
/// follows the timer's creation (a `Scheduler` computes each deadline before the matching event,
/// see `Scheduler.clock`), or for the sleeper itself with `waitForSleepers(_:)`.
///
/// ```swift
/// let clock = ManualClock()
/// let slow = Job(label: "slow", timeout: .seconds(5)) { try await clock.sleep(for: .seconds(60)) }
/// let scheduler = Scheduler(slow, critical: false, clock: clock)
/// async let ok = scheduler.run()
/// await clock.waitForSleepers(2)   // the job's body and its timeout timer
/// clock.advance(by: .seconds(5))   // the timeout fires, not the 60 s sleep
/// print(try await ok)              // false: `slow` failed with a `JobTimeoutError`
/// ```
///
/// `sleep(for:)` (from `Clock`) reads `now` when it is called: a job body sleeping on the clock
/// has its deadline only once it runs, hence `waitForSleepers(_:)` above.
///
/// Thread-safe; it never sleeps or polls itself.
public final class ManualClock: Clock, Sendable {
  /// A point in the time of a `ManualClock`: how far it stands from the clock's origin.
  public struct Instant: InstantProtocol, CustomStringConvertible {
    /// The time since the clock's origin (the clock starts at `.zero`).
    public var offset: Swift.Duration

    /// The instant `offset` after the clock's origin.
    public init(offset: Swift.Duration) {
      self.offset = offset
    }

    /// The clock's origin, where every `ManualClock` starts.
    public static var zero: Instant { Instant(offset: .zero) }

    /// This instant moved by `duration`.
    public func advanced(by duration: Swift.Duration) -> Instant {
      Instant(offset: offset + duration)
    }

    /// The time from this instant to `other`.
    public func duration(to other: Instant) -> Swift.Duration {
      other.offset - offset
    }

    /// Whether `lhs` comes before `rhs`.
    public static func < (lhs: Instant, rhs: Instant) -> Bool {
      lhs.offset < rhs.offset
    }

    /// `instant` moved by `duration`.
    public static func + (instant: Instant, duration: Swift.Duration) -> Instant {
      instant.advanced(by: duration)
    }

    /// `instant` moved back by `duration`.
    public static func - (instant: Instant, duration: Swift.Duration) -> Instant {
      instant.advanced(by: .zero - duration)
    }

    /// The time from `rhs` to `lhs`.
    public static func - (lhs: Instant, rhs: Instant) -> Swift.Duration {
      rhs.duration(to: lhs)
    }

    /// `ManualClock(+1.5 seconds)`.
    public var description: String { "ManualClock(+\(offset))" }
  }

  private struct Sleeper {
    let deadline: Instant
    let continuation: CheckedContinuation<Void, any Error>
  }

  private struct Watcher {
    let count: Int
    let continuation: CheckedContinuation<Void, Never>
  }

  private struct State {
    var now: Instant
    var sleepers: [UInt64: Sleeper] = [:]
    var watchers: [UInt64: Watcher] = [:]
    var nextID: UInt64 = 0

    mutating func makeID() -> UInt64 {
      defer { nextID += 1 }
      return nextID
    }

    /// Removes and returns the watchers whose count is reached.
    mutating func satisfiedWatchers() -> [CheckedContinuation<Void, Never>] {
      let count = sleepers.count
      let ready = watchers.filter { $0.value.count <= count }
      for id in ready.keys { watchers[id] = nil }
      return ready.values.map(\.continuation)
    }
  }

  private let state: Mutex<State>

  /// A clock standing at `now` (the origin by default).
  public init(now: Instant = .zero) {
    state = Mutex(State(now: now))
  }

  /// The current time: it changes only through `advance(by:)` and `advance(to:)`.
  public var now: Instant { state.withLock { $0.now } }

  /// Zero: any deadline can be reached exactly.
  public var minimumResolution: Swift.Duration { .zero }

  /// Suspends until the clock reaches `deadline` (`tolerance` is ignored); returns at once when it
  /// already has.
  /// - Throws: `CancellationError` when the calling task is cancelled, before or while sleeping (the
  ///   sleeper is then forgotten).
  public func sleep(until deadline: Instant, tolerance: Swift.Duration? = nil) async throws {
    let id = state.withLock { $0.makeID() }
    try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        enum Action { case resume, cancel, wait([CheckedContinuation<Void, Never>]) }
        // The cancellation check is made under the lock: `onCancel` runs after the task is marked
        // cancelled, so it either finds the sleeper registered or the check below sees the mark.
        let action = state.withLock { state -> Action in
          if Task.isCancelled { return .cancel }
          if deadline <= state.now { return .resume }
          state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
          return .wait(state.satisfiedWatchers())
        }
        switch action {
        case .resume: continuation.resume()
        case .cancel: continuation.resume(throwing: CancellationError())
        case .wait(let watchers): for watcher in watchers { watcher.resume() }
        }
      }
    } onCancel: {
      let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
      sleeper?.continuation.resume(throwing: CancellationError())
    }
  }

  /// Moves the time forward by `duration` and resumes the sleepers whose deadline is reached, in
  /// deadline order. A negative duration does nothing.
  public func advance(by duration: Swift.Duration) {
    let target = state.withLock { $0.now.advanced(by: max(duration, .zero)) }
    advance(to: target)
  }

  /// Moves the time forward to `instant` and resumes the sleepers whose deadline is reached, in
  /// deadline order. Time never goes back: an instant before `now` does nothing.
  public func advance(to instant: Instant) {
    let due = state.withLock { state -> [Sleeper] in
      if instant > state.now { state.now = instant }
      let now = state.now
      let due = state.sleepers.filter { $0.value.deadline <= now }
      for id in due.keys { state.sleepers[id] = nil }
      return due.values.sorted { $0.deadline < $1.deadline }
    }
    for sleeper in due { sleeper.continuation.resume() }
  }

  /// How many tasks sleep on this clock now, waiting for a deadline not yet reached.
  public func sleepers() -> Int {
    state.withLock { $0.sleepers.count }
  }

  /// Suspends until at least `count` tasks sleep on this clock (at once if they already do), so that
  /// a test advances time only after the timers it means to fire exist. Returns early, without
  /// throwing, when the calling task is cancelled.
  public func waitForSleepers(_ count: Int) async {
    let id = state.withLock { $0.makeID() }
    await withTaskCancellationHandler {
      await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let waiting = state.withLock { state -> Bool in
          if Task.isCancelled || state.sleepers.count >= count { return false }
          state.watchers[id] = Watcher(count: count, continuation: continuation)
          return true
        }
        if !waiting { continuation.resume() }
      }
    } onCancel: {
      let watcher = state.withLock { $0.watchers.removeValue(forKey: id) }
      watcher?.continuation.resume()
    }
  }
}
