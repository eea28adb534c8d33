import Synchronization
import Testing

@testable import AsyncJobs

/// The error thrown by test jobs.
struct BoomError: Error, CustomStringConvertible, Equatable {
  let message: String
  var description: String { message }
}

/// A job that sleeps `seconds` and returns `seconds * scale` (README's `in_out`).
func sleepJob(
  _ seconds: Double, label: String? = nil, critical: Bool = true, forever: Bool = false,
  scale: Double = 1000, requires: [AbstractJob] = []
) -> Job {
  Job(label: label, critical: critical, forever: forever, requires: requires) {
    try await Task.sleep(for: .seconds(seconds))
    return seconds * scale
  }
}

/// A job that sleeps `seconds` and throws `BoomError`.
func boomJob(_ seconds: Double, label: String? = nil, critical: Bool = true) -> Job {
  Job(label: label, critical: critical) {
    try await Task.sleep(for: .seconds(seconds))
    throw BoomError(message: "boom after \(seconds)s")
  }
}

/// A forever job that ticks every `period` seconds.
func tickJob(_ period: Double, label: String? = nil, critical: Bool = true) -> Job {
  Job(label: label, critical: critical, forever: true) {
    while true { try await Task.sleep(for: .seconds(period)) }
  }
}

/// The value of `body` and the seconds it took.
func timed<T>(_ body: () async throws -> T) async throws -> (T, Double) {
  let start = ContinuousClock.now
  let value = try await body()
  let elapsed = ContinuousClock.now - start
  return (value, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

/// Whether `value` is within max(0.15 s, 15 %) of `expected` (the machines running the tests are
/// shared and loaded; the issue asks for at least 0.1 s or 10 %).
func about(_ value: Double, _ expected: Double) -> Bool {
  abs(value - expected) <= max(0.15, expected * 0.15)
}

/// A thread-safe counter shared by test jobs.
final class Counter: Sendable {
  let value = Mutex(0)
  func add(_ delta: Int) { value.withLock { $0 += delta } }
  var current: Int { value.withLock { $0 } }
}

/// A thread-safe log of strings.
final class Log: Sendable {
  let lines = Mutex<[String]>([])
  func append(_ line: String) { lines.withLock { $0.append(line) } }
  var all: [String] { lines.withLock { $0 } }
}

/// Labels of jobs, for comparisons.
func labels(_ jobs: [AbstractJob]) -> [String] { jobs.map(\.effectiveLabel) }

/// Labels of jobs as a set.
func labelSet(_ jobs: [AbstractJob]) -> Set<String> { Set(labels(jobs)) }

/// A job that does nothing, labelled.
func noop(_ label: String, critical: Bool = true, forever: Bool = false) -> Job {
  Job(label: label, critical: critical, forever: forever) { nil }
}
