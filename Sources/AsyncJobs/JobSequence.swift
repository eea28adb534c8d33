/// A builder that chains jobs: each job requires the previous one. Nested sequences are flattened.
///
/// As a requirement a sequence stands for its last job; requirements given to a sequence go to its
/// first job; inside a scheduler a sequence stands for all its jobs.
public struct JobSequence: Schedulable {
  /// The jobs, in order.
  public private(set) var jobs: [AbstractJob] = []

  /// Chains `items` (jobs and sequences, flattened) in order.
  public init(_ items: any Schedulable...) {
    append(items)
  }

  /// Chains `items` (jobs and sequences, flattened) in order.
  public init(_ items: [any Schedulable]) {
    append(items)
  }

  /// Appends `items`, chaining each one to the previous (the first to the current last job).
  public mutating func append(_ items: any Schedulable...) {
    append(items)
  }

  /// Appends `items`, chaining each one to the previous (the first to the current last job).
  public mutating func append(_ items: [any Schedulable]) {
    for item in items {
      for job in item.schedulableJobs {
        if let last = jobs.last, last !== job { job.requires(last) }
        jobs.append(job)
      }
    }
  }

  /// Makes the first job require `jobs`; returns the sequence.
  @discardableResult public func requires(_ jobs: AbstractJob...) -> JobSequence {
    requires(jobs)
  }

  /// Makes the first job require `jobs`; returns the sequence.
  @discardableResult public func requires(_ jobs: [AbstractJob]) -> JobSequence {
    self.jobs.first?.requires(jobs)
    return self
  }

  /// Makes the first job require the last job of `sequence`; returns the sequence.
  @discardableResult public func requires(_ sequence: JobSequence) -> JobSequence {
    jobs.first?.requires(sequence)
    return self
  }

  /// All the jobs.
  public var schedulableJobs: [AbstractJob] { jobs }
  /// The last job.
  public var requirementJob: AbstractJob? { jobs.last }
  /// The first job.
  public var entryJob: AbstractJob? { jobs.first }
}
