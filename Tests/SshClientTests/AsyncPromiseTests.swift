import Synchronization
import Testing

@testable import SshClient

/// The shared result behind a connection attempt: many waiters, cancellation one by one.
@Suite("AsyncPromise: one result, many cancellable waiters")
struct AsyncPromiseTests {
  /// Waits (without sleeping) until `promise` has `count` waiters.
  func waitForWaiters(_ promise: AsyncPromise<Int>, _ count: Int) async {
    while promise.waiterCount < count { await Task.yield() }
  }

  @Test("every waiter gets the result, and later callers get it at once")
  func fulfil() async throws {
    let promise = AsyncPromise<Int>()
    let waiters = (0..<5).map { _ in Task { try await promise.value() } }
    await waitForWaiters(promise, 5)
    promise.fulfill(.success(42))
    promise.fulfill(.success(7))  // ignored
    for waiter in waiters { #expect(try await waiter.value == 42) }
    #expect(try await promise.value() == 42)
    #expect(promise.isFulfilled && promise.waiterCount == 0)
  }

  @Test("a failure reaches every waiter")
  func failure() async throws {
    struct Boom: Error {}
    let promise = AsyncPromise<Int>()
    let waiter = Task { try await promise.value() }
    await waitForWaiters(promise, 1)
    promise.fulfill(.failure(Boom()))
    await #expect(throws: Boom.self) { try await waiter.value }
  }

  @Test("a cancelled waiter leaves at once; the others still get the result")
  func cancelOne() async throws {
    let abandoned = Counter()
    let promise = AsyncPromise<Int>(onAbandoned: { abandoned.add() })
    let leaving = Task { try await promise.value() }
    let staying = Task { try await promise.value() }
    await waitForWaiters(promise, 2)
    leaving.cancel()
    await #expect(throws: CancellationError.self) { try await leaving.value }
    #expect(promise.waiterCount == 1)
    #expect(abandoned.value == 0, "one waiter is left")
    promise.fulfill(.success(1))
    #expect(try await staying.value == 1)
    #expect(abandoned.value == 0)
  }

  @Test("when the last waiter leaves, the promise is abandoned once")
  func abandon() async throws {
    let abandoned = Counter()
    let promise = AsyncPromise<Int>(onAbandoned: { abandoned.add() })
    let waiters = (0..<3).map { _ in Task { try await promise.value() } }
    await waitForWaiters(promise, 3)
    for waiter in waiters {
      waiter.cancel()
      await #expect(throws: CancellationError.self) { try await waiter.value }
    }
    #expect(abandoned.value == 1)
    // A waiter that comes later still gets the result when it comes.
    let late = Task { try await promise.value() }
    await waitForWaiters(promise, 1)
    promise.fulfill(.success(9))
    #expect(try await late.value == 9)
    #expect(abandoned.value == 1)
  }

  @Test("a task cancelled before it waits gets CancellationError without waiting")
  func cancelledBeforeWaiting() async throws {
    let promise = AsyncPromise<Int>()
    let gate = AsyncStream<Void>.makeStream()
    let waiter = Task {
      for await _ in gate.stream {}  // returns when the stream finishes
      return try await promise.value()
    }
    waiter.cancel()
    gate.continuation.finish()
    await #expect(throws: CancellationError.self) { try await waiter.value }
    #expect(promise.waiterCount == 0)
  }
}

/// A thread-safe counter.
final class Counter: Sendable {
  private let count = Mutex(0)
  func add() { count.withLock { $0 += 1 } }
  var value: Int { count.withLock { $0 } }
}
