/// Something that happened during a scheduler's run, for live progress views, CLIs and logs.
///
/// Observe a scheduler with `Scheduler.eventHandler` or `Scheduler.events()`. A scheduler sees the
/// events of its own members **and** of the members of its nested schedulers, at any depth: `path`
/// tells where the job sits. Events of one scheduler come in order; events of sibling nested
/// schedulers interleave.
public struct SchedulerEvent: Sendable, CustomStringConvertible {
  /// What happened.
  public enum Kind: Sendable {
    /// A scheduler's run began (`job` is that scheduler).
    case runStarted
    /// A scheduler's run ended, after its shutdown; `succeeded` is what `run()` returned (false when
    /// it throws).
    case runFinished(succeeded: Bool)
    /// The job's requirements are met; it waits for a window slot.
    case scheduled
    /// The job got a slot; its body starts.
    case started
    /// The body threw and will run again after `retryDelay` (`attempt` is the one that failed, from 1).
    case retrying(attempt: Int, error: any Error)
    /// The body returned (`job.result` holds the value).
    case finished
    /// The body threw (after its last attempt).
    case failed(any Error)
    /// The job was cancelled (scheduler timeout, critical failure, forever job tidied up, task
    /// cancellation).
    case cancelled
  }

  /// What happened.
  public let kind: Kind
  /// The job concerned (the scheduler itself for `runStarted`/`runFinished`).
  public let job: AbstractJob
  /// The scheduler the job is a direct member of (itself for `runStarted`/`runFinished`).
  public let scheduler: Scheduler
  /// The running schedulers from the outermost one down to `scheduler`.
  public let path: [Scheduler]
  /// When it happened: a wall-clock record (`ContinuousClock`), whatever the scheduler's `clock`.
  public let time: ContinuousClock.Instant

  /// The nesting depth of `scheduler`: 0 for the outermost.
  public var depth: Int { path.count - 1 }

  /// A short name for the kind: `STARTING`, `DONE`, `RAISED`, …
  public var kindName: String {
    switch kind {
    case .runStarted: "RUN START"
    case .runFinished(let ok): ok ? "RUN OK" : "RUN FAILED"
    case .scheduled: "SCHEDULED"
    case .started: "STARTING"
    case .retrying: "RETRYING"
    case .finished: "DONE"
    case .failed: "RAISED"
    case .cancelled: "CANCELLED"
    }
  }

  /// ``DONE <Job `label`> [[ -> 1]]`` with `>` marks for nesting.
  public var description: String {
    let indent = String(repeating: ">", count: depth) + (depth > 0 ? " " : "")
    var text = "\(kindName): \(indent)\(job.mainText)"
    switch kind {
    case .finished: text += " " + job.resultText
    case .failed(let error): text += " \(type(of: error)):\(error)"
    case .retrying(let attempt, let error): text += " attempt \(attempt) \(type(of: error)):\(error)"
    default: break
    }
    return text
  }
}
