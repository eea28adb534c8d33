import Synchronization

/// The base class of every job: a node of a dependency graph run by a `Scheduler`.
///
/// Subclass it and override `run()` (the job's body) and, when the job holds resources, `shutdown()`,
/// which its scheduler calls once at the end of each run, whatever the job's state.
///
/// Configuration (`label`, `critical`, `forever`, `timeout`, `retries`, `retryDelay`, requirements) is
/// meant to be set up before a run and left alone while it runs. The run state (`status`, `result`,
/// `error`, times) is protected by a lock and can be read from any task at any time, e.g. by a live
/// progress view while the scheduler runs.
open class AbstractJob: CustomStringConvertible, @unchecked Sendable {
  /// A free-form label, used by listings and graphs; `textLabel` then `NOLABEL` stand in when nil.
  public var label: String?
  /// A critical job that throws makes its scheduler abort (and a critical scheduler throw).
  public var critical: Bool
  /// A forever job is not waited for: it is cancelled when the last finite job of its scheduler ends.
  public var forever: Bool
  /// When set, each attempt of the body is cancelled after this long and fails with `JobTimeoutError`.
  /// For a `Scheduler` this is the timeout of its whole run (see `Scheduler.failedTimeout`).
  public var timeout: Duration?
  /// How many more times the body is run after it throws (not after a cancellation).
  public var retries: Int
  /// The pause before each retry.
  public var retryDelay: Duration

  /// The jobs this job waits for, in insertion order, without duplicates.
  public private(set) var requirements: [AbstractJob] = []

  /// Creates a job.
  /// - Parameters:
  ///   - label: a label for listings and graphs.
  ///   - critical: whether its failure aborts its scheduler (default true).
  ///   - forever: whether it runs until its scheduler's finite jobs are done.
  ///   - requires: the jobs it waits for.
  ///   - timeout: a per-attempt time limit for the body.
  ///   - retries: how many more times to run the body after it throws.
  ///   - retryDelay: the pause before each retry.
  public init(
    label: String? = nil, critical: Bool = true, forever: Bool = false, requires: [AbstractJob] = [],
    timeout: Duration? = nil, retries: Int = 0, retryDelay: Duration = .zero
  ) {
    self.label = label
    self.critical = critical
    self.forever = forever
    self.timeout = timeout
    self.retries = retries
    self.retryDelay = retryDelay
    self.requires(requires)
  }

  /// Releases long requirement chains iteratively: a million-job chain would otherwise overflow
  /// the stack through nested deinits.
  deinit {
    var pending = requirements
    requirements = []
    while var job = pending.popLast() {
      if isKnownUniquelyReferenced(&job) {
        pending += job.requirements
        job.requirements = []
      }
    }
  }

  // MARK: - Body

  /// The job's body. Its return value becomes `result`; what it throws becomes `error`.
  /// Job bodies run as child tasks of their scheduler's run and must honour cancellation.
  /// The default implementation returns nil.
  open func run() async throws -> (any Sendable)? { nil }

  /// Called once at the end of each run of the job's scheduler, concurrently with the other members'
  /// shutdowns and bounded by the scheduler's `shutdownTimeout`, whatever the job's state (check
  /// `isDone` and the like). The default does nothing.
  open func shutdown() async {}

  /// Called on every job of a scheduler's tree when the scheduler's run starts, before any job
  /// runs — also on jobs that will not get to run, since every member is shut down at the end.
  /// Acquire here what `shutdown()` releases. The default does nothing.
  open func prepareForRun() {}

  /// Whether `shutdown()` may do something; false lets the scheduler skip it (no-op jobs).
  var needsShutdown: Bool { true }

  /// Runs the body on behalf of a scheduler; `Scheduler` overrides it to pass the nesting context.
  func runAsMember(_ context: RunContext) async throws -> (any Sendable)? {
    try await run()
  }

  // MARK: - Requirements

  /// Adds requirements (ignoring `self` and duplicates) and returns `self` for chaining.
  @discardableResult public func requires(_ jobs: AbstractJob...) -> Self {
    requires(jobs)
  }

  /// Adds requirements (ignoring `self` and duplicates) and returns `self` for chaining.
  @discardableResult public func requires(_ jobs: [AbstractJob]) -> Self {
    if jobs.count + requirements.count > 16 {
      var known = Set(requirements.map(ObjectIdentifier.init))
      for job in jobs where job !== self && known.insert(ObjectIdentifier(job)).inserted {
        requirements.append(job)
      }
    } else {
      for job in jobs where job !== self && !requirements.contains(where: { $0 === job }) {
        requirements.append(job)
      }
    }
    return self
  }

  /// Requires the last job of `sequence` and returns `self` for chaining.
  @discardableResult public func requires(_ sequence: JobSequence) -> Self {
    if let last = sequence.jobs.last { requires(last) }
    return self
  }

  /// Removes `job` from the requirements, if present.
  public func removeRequirement(_ job: AbstractJob) {
    requirements.removeAll { $0 === job }
  }

  /// Replaces the requirements wholesale (graph surgery by the scheduler).
  func setRequirements(_ jobs: [AbstractJob]) {
    requirements = []
    requires(jobs)
  }

  // MARK: - Run state

  /// The state a run writes and anyone may read.
  struct RunState {
    var status: JobStatus = .idle
    var cancelled = false
    var attempts: Int32 = 0
    var result: (any Sendable)?
    var error: (any Error)?
    var startedAt: ContinuousClock.Instant?
    var endedAt: ContinuousClock.Instant?
  }

  let state = Mutex(RunState())

  /// The job's index in the plan of the last run of its scheduler: a hint that spares a dictionary
  /// (checked by identity, so a stale or foreign value is harmless).
  let planIndex = Atomic<Int32>(-1)

  /// Where the job stands in the current (or last) run.
  public var status: JobStatus { state.withLock { $0.status } }
  /// Not triggered (yet).
  public var isIdle: Bool { status == .idle }
  /// Requirements met, waiting for a window slot.
  public var isScheduled: Bool { status == .scheduled }
  /// Holding a window slot (or cancelled while holding one).
  public var isRunning: Bool { status == .running }
  /// The body returned or threw.
  public var isDone: Bool { status == .done }
  /// The value the body returned; nil unless done without error.
  public var result: (any Sendable)? { state.withLock { $0.status == .done ? $0.result : nil } }
  /// What the body threw (after its last attempt), or nil.
  public var error: (any Error)? { state.withLock { $0.error } }
  /// Whether the job was cancelled while scheduled or running in the last run.
  public var wasCancelled: Bool { state.withLock { $0.cancelled } }
  /// How many times the body was started in the last run (retries included).
  public var attempts: Int { Int(state.withLock { $0.attempts }) }
  /// When the job got its window slot in the last run: a wall-clock record (`ContinuousClock`),
  /// whatever the scheduler's `clock`.
  public var startedAt: ContinuousClock.Instant? { state.withLock { $0.startedAt } }
  /// When the job ended (done or cancelled) in the last run: a wall-clock record
  /// (`ContinuousClock`), whatever the scheduler's `clock`.
  public var endedAt: ContinuousClock.Instant? { state.withLock { $0.endedAt } }

  /// Forces a state (tests and scheduler internals).
  func setState(
    _ status: JobStatus, result: (any Sendable)? = nil, error: (any Error)? = nil, cancelled: Bool = false
  ) {
    state.withLock {
      $0.status = status
      $0.result = result
      $0.error = error
      $0.cancelled = cancelled
    }
  }

  /// Back to idle, before a new run.
  func resetState() {
    state.withLock { $0 = RunState() }
  }

  // MARK: - Labels

  /// A label computed by the class when `label` is nil (default nil).
  open var textLabel: String? { nil }
  /// A label for graphs only; when non-nil it replaces `"<id>: <label>"` in DOT output (default nil).
  open var graphLabel: String? { nil }
  /// Extra text printed under the job by `Scheduler.list(details: true)` (default nil).
  open var details: String? { nil }

  /// `label`, else `textLabel`, else `NOLABEL`.
  public var effectiveLabel: String { label ?? textLabel ?? "NOLABEL" }

  /// The listing line of the job without ids, e.g. ``⚠   ⚐   <Job `b2`> [not done] requires={??}``.
  open var description: String {
    let requires =
      requirements.isEmpty
      ? "" : "requires={" + requirements.map { _ in "??" }.joined(separator: ", ") + "}"
    return "\(badge(ListingSymbols.current)) \(mainText) \(resultText) \(requires)"
  }
}

extension AbstractJob: Schedulable {
  /// `[self]`.
  public var schedulableJobs: [AbstractJob] { [self] }
  /// `self`.
  public var requirementJob: AbstractJob? { self }
  /// `self`.
  public var entryJob: AbstractJob? { self }
}
