import Synchronization

/// A result that several tasks wait for and one party provides once: a connection attempt shared
/// by every job that needs the connection at the same moment.
///
/// A waiter that is cancelled stops waiting at once (it gets `CancellationError`) and the others
/// go on waiting. When the last waiter leaves that way before the result is there, `onAbandoned`
/// runs (so that whoever produces the result can stop: nobody wants it any more). Waiting costs no
/// task: waiters are continuations held here.
final class AsyncPromise<Value: Sendable>: Sendable {
  private struct State {
    var result: Result<Value, any Error>?
    /// The registered waiters; nil until the waiter's continuation is stored.
    var waiters: [UInt64: CheckedContinuation<Value, any Error>?] = [:]
    /// Waiters cancelled before their continuation was stored.
    var cancelledEarly: Set<UInt64> = []
    var nextID: UInt64 = 0
    var abandoned = false
  }
  private let state = Mutex(State())
  private let onAbandoned: (@Sendable () -> Void)?

  /// Creates a promise; `onAbandoned` runs once if every waiter is cancelled before `fulfill`.
  init(onAbandoned: (@Sendable () -> Void)? = nil) {
    self.onAbandoned = onAbandoned
  }

  /// Whether the result is there.
  var isFulfilled: Bool { state.withLock { $0.result != nil } }

  /// The number of tasks waiting now (for tests).
  var waiterCount: Int { state.withLock { $0.waiters.count } }

  /// Provides the result and resumes every waiter; later calls are ignored.
  func fulfill(_ result: Result<Value, any Error>) {
    let waiters = state.withLock { state -> [CheckedContinuation<Value, any Error>] in
      guard state.result == nil else { return [] }
      state.result = result
      let waiting = state.waiters.values.compactMap { $0 }
      state.waiters = [:]
      return waiting
    }
    for waiter in waiters { waiter.resume(with: result) }
  }

  /// The result, once there; throws `CancellationError` at once if the calling task is cancelled
  /// (the promise itself is not affected).
  func value() async throws -> Value {
    let (ready, id) = state.withLock { state -> (Result<Value, any Error>?, UInt64) in
      if let result = state.result { return (result, 0) }
      state.nextID += 1
      state.waiters[state.nextID] = .some(nil)
      return (nil, state.nextID)
    }
    if let ready { return try ready.get() }
    return try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
        let now = state.withLock { state -> Result<Value, any Error>? in
          if let result = state.result { return result }
          if state.cancelledEarly.remove(id) != nil { return .failure(CancellationError()) }
          state.waiters[id] = continuation
          return nil
        }
        if let now { continuation.resume(with: now) }
      }
    } onCancel: {
      leave(id)
    }
  }

  /// A waiter was cancelled: it leaves now; the last one to leave abandons the promise.
  private func leave(_ id: UInt64) {
    let (continuation, abandon) = state.withLock { state -> (CheckedContinuation<Value, any Error>?, Bool) in
      guard state.result == nil, let entry = state.waiters.removeValue(forKey: id) else { return (nil, false) }
      if entry == nil { state.cancelledEarly.insert(id) }
      let abandon = state.waiters.isEmpty && !state.abandoned
      if abandon { state.abandoned = true }
      return (entry, abandon)
    }
    continuation?.resume(throwing: CancellationError())
    if abandon { onAbandoned?() }
  }
}
