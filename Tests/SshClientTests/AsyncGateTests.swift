import Synchronization
import Testing

@testable import SshClient

/// The FIFO semaphore of channel opens and session slots.
@Suite("AsyncGate: permits, FIFO order, cancellation")
struct AsyncGateTests {
  func waitForWaiters(_ gate: AsyncGate, _ count: Int) async {
    while gate.waiterCount < count { await Task.yield() }
  }

  @Test("no more holders than permits; waiters get released permits in arrival order")
  func fifo() async throws {
    let gate = AsyncGate(permits: 2)
    try await gate.acquire()
    try await gate.acquire()
    #expect(gate.freePermits == 0)
    let order = Order()
    var waiters: [Task<Void, any Error>] = []
    for index in 1...3 {
      waiters.append(
        Task {
          try await gate.acquire()
          order.append(index)
        })
      await waitForWaiters(gate, index)  // arrival order is the creation order
    }
    #expect(order.values.isEmpty, "nobody passes while both permits are held")
    gate.release()
    try await waiters[0].value
    gate.release()
    try await waiters[1].value
    gate.release()
    try await waiters[2].value
    #expect(order.values == [1, 2, 3])
    #expect(gate.freePermits == 0 && gate.waiterCount == 0)
  }

  @Test("a cancelled waiter leaves the queue; the permit goes to the next one")
  func cancelled() async throws {
    let gate = AsyncGate(permits: 1)
    try await gate.acquire()
    let leaving = Task { try await gate.acquire() }
    await waitForWaiters(gate, 1)
    let next = Task { try await gate.acquire() }
    await waitForWaiters(gate, 2)
    leaving.cancel()
    await #expect(throws: CancellationError.self) { try await leaving.value }
    #expect(gate.waiterCount == 1)
    gate.release()
    try await next.value
    #expect(gate.freePermits == 0)
  }

  @Test("withPermit gives the permit back when its body throws")
  func withPermitThrows() async throws {
    struct Boom: Error {}
    let gate = AsyncGate(permits: 1)
    await #expect(throws: Boom.self) { try await gate.withPermit { throw Boom() } }
    #expect(gate.freePermits == 1)
    #expect(try await gate.withPermit { 5 } == 5)
    #expect(gate.freePermits == 1)
  }
}

/// Numbers appended by several tasks.
final class Order: Sendable {
  private let list = Mutex<[Int]>([])
  func append(_ value: Int) { list.withLock { $0.append(value) } }
  var values: [Int] { list.withLock { $0 } }
}
