import Synchronization

extension Task where Failure == any Error {
  /// The task's value, as `value`, except that a cancelled caller stops waiting at once and gets
  /// `CancellationError` while the task itself goes on (others may be waiting for it: a
  /// connection attempt shared by several jobs, say).
  public func valueUnlessCancelled() async throws -> Success {
    let waiter = OnceContinuation<Success>()
    return try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { continuation in
        waiter.set(continuation)
        Task<Void, Never> { waiter.resume(with: await self.result) }
      }
    } onCancel: {
      waiter.resume(with: .failure(Swift.CancellationError()))
    }
  }
}

/// A continuation resumed once, by whichever comes first: the result, or the caller's cancellation
/// (which may come before the continuation exists).
private final class OnceContinuation<Value: Sendable>: Sendable {
  private enum State {
    case waiting
    case armed(CheckedContinuation<Value, any Error>)
    case cancelledEarly
    case done
  }
  private let state = Mutex<State>(.waiting)

  func set(_ continuation: CheckedContinuation<Value, any Error>) {
    let cancelled = state.withLock { state -> Bool in
      if case .cancelledEarly = state {
        state = .done
        return true
      }
      state = .armed(continuation)
      return false
    }
    if cancelled { continuation.resume(throwing: CancellationError()) }
  }

  func resume(with result: Result<Value, any Error>) {
    let continuation = state.withLock { state -> CheckedContinuation<Value, any Error>? in
      switch state {
      case .armed(let continuation):
        state = .done
        return continuation
      case .waiting:
        if case .failure(let error) = result, error is CancellationError { state = .cancelledEarly }
        return nil
      case .cancelledEarly, .done:
        return nil
      }
    }
    continuation?.resume(with: result)
  }
}
