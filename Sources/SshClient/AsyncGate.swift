import Synchronization

/// A FIFO async semaphore: `acquire()` suspends while no permit is left, `release()` hands the
/// permit to the oldest waiter. A cancelled waiter leaves the queue and throws `CancellationError`.
final class AsyncGate: Sendable {
  private struct State {
    var permits: Int
    var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
    var nextID: UInt64 = 0
  }
  private let state: Mutex<State>

  init(permits: Int) { state = Mutex(State(permits: permits)) }

  /// Takes a permit, waiting in FIFO order for one if needed.
  func acquire() async throws {
    let id: UInt64? = state.withLock { state in
      if state.permits > 0 && state.waiters.isEmpty {
        state.permits -= 1
        return nil
      }
      state.nextID += 1
      return state.nextID
    }
    guard let id else { return }
    try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        let granted: Bool? = state.withLock { state in
          if Task.isCancelled { return false }
          // A permit may have come back between the two critical sections.
          if state.permits > 0 && state.waiters.isEmpty {
            state.permits -= 1
            return true
          }
          state.waiters.append((id, continuation))
          return nil
        }
        switch granted {
        case true?: continuation.resume()
        case false?: continuation.resume(throwing: CancellationError())
        case nil: break
        }
      }
    } onCancel: {
      let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
        guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
        return state.waiters.remove(at: index).continuation
      }
      waiter?.resume(throwing: CancellationError())
    }
  }

  /// The tasks waiting for a permit now (for tests).
  var waiterCount: Int { state.withLock { $0.waiters.count } }

  /// The permits free now (for tests).
  var freePermits: Int { state.withLock { $0.permits } }

  /// Gives a permit back, or hands it to the oldest waiter.
  func release() {
    let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
      if state.waiters.isEmpty {
        state.permits += 1
        return nil
      }
      return state.waiters.removeFirst().continuation
    }
    next?.resume()
  }

  /// Runs `body` holding a permit.
  func withPermit<T>(isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T) async throws -> T {
    try await acquire()
    defer { release() }
    return try await body()
  }
}
