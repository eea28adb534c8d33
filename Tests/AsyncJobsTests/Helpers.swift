import Synchronization
import Testing

@testable import AsyncJobs

/// The error thrown by test jobs.
struct BoomError: Error, CustomStringConvertible, Equatable {
  let message: String
  var description: String { message }
}

// MARK: - Waiting without sleeping

/// What `Watched.wait(until:)` does once it looked at the value.
private enum WaitAction { case ready, cancelled, waiting }

/// A value behind a lock that tasks can wait on until it satisfies a condition: the tests wait for
/// what happened (a job started, an event came), never for some time to pass.
final class Watched<Value: Sendable>: Sendable {
  private struct Waiter {
    let isReady: @Sendable (Value) -> Bool
    let continuation: CheckedContinuation<Void, any Error>
  }

  private struct State {
    var value: Value
    var waiters: [UInt64: Waiter] = [:]
    var nextID: UInt64 = 0
  }

  private let state: Mutex<State>

  init(_ value: Value) {
    state = Mutex(State(value: value))
  }

  /// The current value.
  var value: Value { state.withLock { $0.value } }

  /// Changes the value and wakes the waiters whose condition now holds.
  @discardableResult func update<Result>(_ change: (inout Value) -> Result) -> Result {
    let (result, ready) = state.withLock { state in
      let result = change(&state.value)
      let value = state.value
      let ready = state.waiters.filter { $0.value.isReady(value) }
      for id in ready.keys { state.waiters[id] = nil }
      return (result, Array(ready.values))
    }
    for waiter in ready { waiter.continuation.resume() }
    return result
  }

  /// Suspends until `isReady(value)` holds (at once if it does).
  /// - Throws: `CancellationError` when the calling task is cancelled (e.g. by a test's time limit).
  func wait(until isReady: @escaping @Sendable (Value) -> Bool) async throws {
    let id = state.withLock { state in
      defer { state.nextID += 1 }
      return state.nextID
    }
    try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        let action = state.withLock { state -> WaitAction in
          if Task.isCancelled { return .cancelled }
          if isReady(state.value) { return .ready }
          state.waiters[id] = Waiter(isReady: isReady, continuation: continuation)
          return .waiting
        }
        switch action {
        case .ready: continuation.resume()
        case .cancelled: continuation.resume(throwing: CancellationError())
        case .waiting: break
        }
      }
    } onCancel: {
      let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
      waiter?.continuation.resume(throwing: CancellationError())
    }
  }
}

/// A door that job bodies (or shutdowns) wait at until the test opens it; it counts the arrivals,
/// so that the test knows who got there.
final class Gate: Sendable {
  private let state = Watched((isOpen: false, arrivals: 0))

  /// Records an arrival, then waits until the gate is open.
  /// - Throws: `CancellationError` when the waiting task is cancelled.
  func pass() async throws {
    state.update { $0.arrivals += 1 }
    try await state.wait { $0.isOpen }
  }

  /// Records an arrival, then waits until the gate is open, ignoring cancellation (a stuck
  /// shutdown).
  func passIgnoringCancellation() async {
    state.update { $0.arrivals += 1 }
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      Task.detached {
        try? await self.state.wait { $0.isOpen }
        continuation.resume()
      }
    }
  }

  /// Lets every waiting and future body through.
  func open() {
    state.update { $0.isOpen = true }
  }

  /// How many bodies got to the gate.
  var arrivals: Int { state.value.arrivals }

  /// Waits until `count` bodies got to the gate.
  func waitForArrivals(_ count: Int) async throws {
    try await state.wait { $0.arrivals >= count }
  }
}

/// A thread-safe counter shared by test jobs, which a test can wait on.
final class Counter: Sendable {
  private let state = Watched(0)
  func add(_ delta: Int) { state.update { $0 += delta } }
  var current: Int { state.value }
  /// Waits until the counter equals `value`.
  func wait(for value: Int) async throws { try await state.wait { $0 == value } }
}

/// A thread-safe log of strings, which a test can wait on.
final class Log: Sendable {
  private let state = Watched<[String]>([])
  func append(_ line: String) { state.update { $0.append(line) } }
  var all: [String] { state.value }
  /// Waits until `line` is in the log.
  func wait(for line: String) async throws { try await state.wait { $0.contains(line) } }
}

// MARK: - Events

/// Records a scheduler's events (from `events()`) as lines `"<kind> <label>"` — `STARTING a`,
/// `DONE a`, `RAISED boom`, `CANCELLED t`, `RETRYING flaky`, `RUN START s`, `RUN OK s`, … — in the
/// order they were emitted, nested schedulers' included. Make it before the run starts; it records
/// that run only.
final class EventRecorder: Sendable {
  private let state: Watched<(lines: [String], ended: Bool)>
  private let consumer: Task<Void, Never>

  init(_ scheduler: Scheduler) {
    let events = scheduler.events()
    let state = Watched((lines: [String](), ended: false))
    self.state = state
    consumer = Task {
      for await event in events {
        state.update { $0.lines.append(EventRecorder.line(event)) }
      }
      state.update { $0.ended = true }
    }
  }

  static func line(_ event: SchedulerEvent) -> String {
    "\(event.kindName) \(event.job.effectiveLabel)"
  }

  /// The lines so far.
  var lines: [String] { state.value.lines }

  /// Waits until `line` was recorded `count` times; records an issue if the run ended before.
  func wait(
    for line: String, count: Int = 1, sourceLocation: SourceLocation = #_sourceLocation
  ) async throws {
    @Sendable func seen(_ lines: [String]) -> Int { lines.lazy.filter { $0 == line }.count }
    try await state.wait { seen($0.lines) >= count || $0.ended }
    if seen(lines) < count {
      Issue.record("the run ended without \(count) × \(line): \(lines)", sourceLocation: sourceLocation)
    }
  }

  /// Every line of the run, once it has ended.
  func all() async -> [String] {
    await consumer.value
    return lines
  }
}

/// Whether every line of `sequence` is in `lines`, in this order.
func inOrder(_ lines: [String], _ sequence: String...) -> Bool {
  var from = lines.startIndex
  for line in sequence {
    guard let index = lines[from...].firstIndex(of: line) else { return false }
    from = index + 1
  }
  return true
}

/// The most jobs (among `labels`) between their `STARTING` and their end (`DONE`, `RAISED`,
/// `CANCELLED`) at any point of `lines`: what a jobs window bounds.
func maxConcurrency(_ lines: [String], among labels: Set<String>) -> Int {
  var running = 0
  var most = 0
  for line in lines {
    let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
    guard parts.count == 2, labels.contains(parts[1]) else { continue }
    switch parts[0] {
    case "STARTING": running += 1
    case "DONE", "RAISED", "CANCELLED": running -= 1
    default: break
    }
    most = max(most, running)
  }
  return most
}

// MARK: - Jobs

/// A job that waits at `gate` (records its arrival first), then returns `value`.
func gated(
  _ label: String, _ gate: Gate, value: (any Sendable)? = nil, critical: Bool = true,
  forever: Bool = false, timeout: Duration? = nil, requires: [AbstractJob] = []
) -> Job {
  Job(label: label, critical: critical, forever: forever, requires: requires, timeout: timeout) {
    try await gate.pass()
    return value
  }
}

/// A job that returns `value` at once.
func quick(
  _ label: String, value: (any Sendable)? = nil, critical: Bool = true, requires: [AbstractJob] = []
) -> Job {
  Job(label: label, critical: critical, requires: requires) { value }
}

/// A job that throws `BoomError(message)` at once.
func boom(_ label: String, _ message: String = "boom", critical: Bool = true) -> Job {
  Job(label: label, critical: critical) { throw BoomError(message: message) }
}

/// A job that does nothing, labelled.
func noop(_ label: String, critical: Bool = true, forever: Bool = false) -> Job {
  Job(label: label, critical: critical, forever: forever) { nil }
}

/// Labels of jobs, for comparisons.
func labels(_ jobs: [AbstractJob]) -> [String] { jobs.map(\.effectiveLabel) }

/// Labels of jobs as a set.
func labelSet(_ jobs: [AbstractJob]) -> Set<String> { Set(labels(jobs)) }

/// Fires every timer of `clock` and opens `gates`: the cleanup of a test whose run has a shutdown
/// phase waiting on them. Declare it with `defer` after the run's `async let`: when the test fails
/// or hits its time limit, it runs before the run is cancelled and awaited, and lets the shutdown
/// phase (which the run's cancellation does not end) finish. Harmless after a run that ended.
func release(_ clock: ManualClock, _ gates: Gate...) {
  clock.advance(by: .seconds(1_000_000_000))
  for gate in gates { gate.open() }
}
