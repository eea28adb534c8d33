/// The lifecycle of a job within a run of its scheduler.
///
/// A job goes `idle` → `scheduled` (its requirements are met, it waits for a slot of the jobs window)
/// → `running` (it holds a slot) → `done` (its body returned or threw). A job cancelled while running
/// (scheduler timeout, critical failure elsewhere, forever job tidied up, task cancellation) stays
/// `running` and has `AbstractJob.wasCancelled` set; one cancelled while waiting for a slot stays
/// `scheduled`.
public enum JobStatus: Sendable, Equatable, CustomStringConvertible {
  /// Not triggered yet in the current (or last) run.
  case idle
  /// Requirements met, waiting for a slot of the jobs window.
  case scheduled
  /// Holds a window slot: its body is running (or was cancelled while running).
  case running
  /// The body returned or threw.
  case done

  /// `idle`, `scheduled`, `running` or `done`.
  public var description: String {
    switch self {
    case .idle: "idle"
    case .scheduled: "scheduled"
    case .running: "running"
    case .done: "done"
    }
  }
}
