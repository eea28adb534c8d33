/// Waits until a deadline fixed when it was made; throws `CancellationError` when cancelled.
typealias DeadlineSleeper = @Sendable () async throws -> Void

extension Clock where Duration == Swift.Duration {
  /// A sleeper bound to the absolute deadline `now + duration`, read from this clock now, not when
  /// the sleeper is called: a timer task that starts late still fires on time, and a test that
  /// advances a `ManualClock` after the deadline was made never races with the timer's creation.
  ///
  /// Called on an `any Clock<Duration>`, this opens the existential (`Instant` is an associated type,
  /// so `clock.now + d` cannot be written on the existential itself).
  func sleeper(after duration: Swift.Duration) -> DeadlineSleeper {
    let deadline = now.advanced(by: duration)
    return { try await self.sleep(until: deadline, tolerance: nil) }
  }
}
