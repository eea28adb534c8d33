/// What a `Scheduler` or a `JobSequence` accepts as items: a job (`AbstractJob`, including a nested
/// `Scheduler`) or a `JobSequence`.
public protocol Schedulable {
  /// The jobs this item contributes, in order.
  var schedulableJobs: [AbstractJob] { get }
  /// The job that stands for this item as a requirement: the job itself, or a sequence's last job.
  var requirementJob: AbstractJob? { get }
  /// The job that receives requirements given to this item: the job itself, or a sequence's first job.
  var entryJob: AbstractJob? { get }
}
