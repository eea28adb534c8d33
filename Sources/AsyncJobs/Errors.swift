/// Errors that make `Scheduler.run()` throw before any job starts, or that describe misuse.
public enum SchedulerError: Error, Equatable, CustomStringConvertible {
  /// The requirements of `scheduler` form a cycle; `jobs` are the labels along the cycle.
  case cycle(scheduler: String, jobs: [String])
  /// `job`, a member of `scheduler`, requires `requirement`, which is not a member of it.
  /// Call `Scheduler.sanitize()` to drop such requirements.
  case requirementOutsideScheduler(scheduler: String, job: String, requirement: String)
  /// `run()` was called on a scheduler whose previous run has not ended.
  case alreadyRunning(scheduler: String)
  /// `bypassAndRemove(_:)` was given a job that is not a direct member.
  case notAMember(scheduler: String, job: String)

  /// A one-line message naming the scheduler and the jobs involved.
  public var description: String {
    switch self {
    case .cycle(let scheduler, let jobs):
      "scheduler \(scheduler) has a cycle: \(jobs.joined(separator: " -> ")) -> \(jobs.first ?? "?")"
    case .requirementOutsideScheduler(let scheduler, let job, let requirement):
      "in scheduler \(scheduler), job \(job) requires \(requirement) which is not in the scheduler"
        + " (call sanitize() to drop it)"
    case .alreadyRunning(let scheduler):
      "scheduler \(scheduler) is already running"
    case .notAMember(let scheduler, let job):
      "job \(job) is not in scheduler \(scheduler)"
    }
  }
}

/// Thrown by a critical scheduler whose run exceeded its `timeout`.
public struct SchedulerTimeoutError: Error, Equatable, CustomStringConvertible {
  /// The label of the scheduler (or `NOLABEL`).
  public let scheduler: String
  /// The scheduler's timeout.
  public let timeout: Duration

  /// `critical scheduler <label> took too long (timeout <t>s)`.
  public var description: String {
    "critical scheduler \(scheduler) took too long (timeout \(timeout.secondsText)s)"
  }
}

/// The error of a job whose own `timeout` expired: its body was cancelled.
public struct JobTimeoutError: Error, Equatable, CustomStringConvertible {
  /// The label of the job.
  public let job: String
  /// The job's timeout.
  public let timeout: Duration

  /// `job <label> timed out after <t>s`.
  public var description: String {
    "job \(job) timed out after \(timeout.secondsText)s"
  }
}

extension Duration {
  /// Seconds as a short decimal text: `0.25`, `1`, `0`.
  var secondsText: String {
    let (seconds, attoseconds) = components
    if attoseconds == 0 { return String(seconds) }
    let micros = (Double(seconds) + Double(attoseconds) / 1e18) * 1e6
    var text = String(Int64(micros.rounded()))
    let negative = text.hasPrefix("-")
    if negative { text.removeFirst() }
    while text.count < 7 { text = "0" + text }
    var fraction = String(text.suffix(6))
    let whole = String(text.dropLast(6))
    while fraction.hasSuffix("0") { fraction.removeLast() }
    return (negative ? "-" : "") + whole + (fraction.isEmpty ? "" : "." + fraction)
  }
}
