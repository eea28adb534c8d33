import Synchronization

/// A set of jobs with requirements between them, run concurrently as soon as their requirements are
/// met, within an optional jobs window and timeout.
///
/// A scheduler is itself a job: it can be a member of another scheduler (nesting to any depth), with
/// its own window and timeout, occupying one slot of its parent's window. Members are kept in
/// insertion order, which makes ids, listings and graphs deterministic.
///
/// ```swift
/// let a = Job(label: "a") { 1 }
/// let b = Job(label: "b", requires: [a]) { 2 }
/// let ok = try await Scheduler(a, b, jobsWindow: 4).run()
/// ```
public final class Scheduler: AbstractJob, @unchecked Sendable {
  /// The direct members, in insertion order.
  public private(set) var members: [AbstractJob] = []
  private var memberIDs: Set<ObjectIdentifier> = []
  /// At most this many members run at once; nil, 0 or negative means unlimited.
  public var jobsWindow: Int?
  /// The shutdown phase at the end of a run is cancelled after this long; nil means no limit.
  public var shutdownTimeout: Duration?
  /// Print one line per event on standard output.
  public var verbose: Bool
  /// The clock on which a run of this scheduler makes its timing decisions: the run's `timeout`,
  /// each job's `timeout`, the `retryDelay` pauses and the `shutdownTimeout` bound, nested
  /// schedulers included. Only the clock of the outermost scheduler being run counts: a nested
  /// scheduler runs on its parent's. `ContinuousClock()` by default; tests pass a `ManualClock`.
  ///
  /// Each deadline is fixed, on this clock, before the event that announces the thing it bounds:
  /// the run's deadline before `.runStarted`, a job attempt's before `.started` (later attempts'
  /// before their body starts), a retry's wake-up time before `.retrying`, and the shutdown bound
  /// before any `shutdown()` is called. A test that waits for the event, then advances a
  /// `ManualClock`, never races with the timer's creation.
  ///
  /// Time stamps (`startedAt`, `endedAt`, `SchedulerEvent.time`) are wall-clock records on
  /// `ContinuousClock`, whatever this clock.
  public var clock: any Clock<Duration>

  /// Outcome of the last run, readable at any time.
  struct Outcome {
    var running = false
    var failedCritical = false
    var failedTimeout = false
    var didShutdown = true
    /// The clock of the run this scheduler belongs to (its own, or its outermost parent's), for its
    /// shutdown phase; nil before any run.
    var clock: (any Clock<Duration>)?
  }
  let outcome = Mutex(Outcome())

  /// Event observers (see `SchedulerEvent`).
  struct Observers {
    var handler: (@Sendable (SchedulerEvent) -> Void)?
    var streams: [Int: AsyncStream<SchedulerEvent>.Continuation] = [:]
    var nextStream = 0
  }
  let observers = Mutex(Observers())
  /// Non-zero when someone observes events (handler, streams): a cheap check on the hot path.
  let observerCount = Atomic<Int>(0)

  /// Creates a scheduler holding `items` (jobs, nested schedulers and sequences).
  /// - Parameters:
  ///   - items: the members; a sequence contributes all its jobs.
  ///   - jobsWindow: at most this many members run at once; nil, 0 or negative means unlimited.
  ///   - timeout: the whole run is cancelled after this long and fails (`failedTimeout`).
  ///   - shutdownTimeout: the limit of the shutdown phase (default 1 s; nil means none).
  ///   - critical: as a job, and for `run()`: a critical scheduler throws when it fails, a
  ///     non-critical one returns false.
  ///   - forever: as a member of another scheduler, whether it is a forever job.
  ///   - label: a label for listings, graphs and errors.
  ///   - verbose: print one line per event.
  ///   - clock: the clock of the timing decisions when this scheduler is the outermost one run (see
  ///     `clock`); a `ManualClock` in tests.
  public convenience init(
    _ items: any Schedulable..., jobsWindow: Int? = nil, timeout: Duration? = nil,
    shutdownTimeout: Duration? = .seconds(1), critical: Bool = true, forever: Bool = false,
    label: String? = nil, verbose: Bool = false, clock: any Clock<Duration> = ContinuousClock()
  ) {
    self.init(
      items, jobsWindow: jobsWindow, timeout: timeout, shutdownTimeout: shutdownTimeout,
      critical: critical, forever: forever, label: label, verbose: verbose, clock: clock)
  }

  /// Creates a scheduler holding `items` (jobs, nested schedulers and sequences); see the variadic
  /// initializer.
  public init(
    _ items: [any Schedulable], jobsWindow: Int? = nil, timeout: Duration? = nil,
    shutdownTimeout: Duration? = .seconds(1), critical: Bool = true, forever: Bool = false,
    label: String? = nil, verbose: Bool = false, clock: any Clock<Duration> = ContinuousClock()
  ) {
    self.jobsWindow = jobsWindow
    self.shutdownTimeout = shutdownTimeout
    self.verbose = verbose
    self.clock = clock
    super.init(label: label, critical: critical, forever: forever, timeout: timeout)
    update(items)
  }

  // MARK: - Members

  /// The direct members, in insertion order (same as `members`).
  public var jobs: [AbstractJob] { members }
  /// The number of direct members (nested jobs not counted).
  public var count: Int { members.count }

  /// Whether `job` is a direct member.
  public func contains(_ job: AbstractJob) -> Bool {
    memberIDs.contains(ObjectIdentifier(job))
  }

  /// Adds a job or the jobs of a sequence, and returns the argument.
  @discardableResult public func add<Item: Schedulable>(_ item: Item) -> Item {
    update([item])
    return item
  }

  /// Adds jobs and the jobs of sequences (duplicates ignored); returns the scheduler.
  @discardableResult public func update(_ items: any Schedulable...) -> Scheduler {
    update(items)
  }

  /// Adds jobs and the jobs of sequences (duplicates ignored); returns the scheduler.
  @discardableResult public func update(_ items: [any Schedulable]) -> Scheduler {
    members.reserveCapacity(members.count + items.count)
    for item in items {
      if let job = item as? AbstractJob {
        insertMember(job)
      } else {
        for job in item.schedulableJobs { insertMember(job) }
      }
    }
    return self
  }

  private func insertMember(_ job: AbstractJob) {
    if job !== self && memberIDs.insert(ObjectIdentifier(job)).inserted { members.append(job) }
  }

  /// Removes a direct member; returns whether it was one. Other members' requirements on it are
  /// kept: call `sanitize()` afterwards, or use `bypassAndRemove(_:)`.
  @discardableResult public func remove(_ job: AbstractJob) -> Bool {
    guard memberIDs.remove(ObjectIdentifier(job)) != nil else { return false }
    members.removeAll { $0 === job }
    return true
  }

  /// Replaces the members, keeping the order of `jobs`.
  func setMembers(_ jobs: [AbstractJob]) {
    members = []
    memberIDs = []
    update(jobs)
  }

  // MARK: - Outcome

  /// Whether the last run failed because a critical job threw.
  public var failedCritical: Bool { outcome.withLock { $0.failedCritical } }
  /// Whether the last run failed because it exceeded `timeout`.
  public var failedTimeout: Bool { outcome.withLock { $0.failedTimeout } }
  /// Whether a run is in progress.
  public var isRunningNow: Bool { outcome.withLock { $0.running } }

  /// `TIMED OUT after <t>s`, `a CRITICAL job has raised an exception` or `FINE`.
  public func why() -> String {
    if failedTimeout { return "TIMED OUT after \((timeout ?? .zero).secondsText)s" }
    if failedCritical { return "a CRITICAL job has raised an exception" }
    return "FINE"
  }

  /// `"{done}D + {ongoing}R + {idle}I = {total}"` over the direct members (a scheduled job waiting
  /// for a slot counts as idle).
  public func stats() -> String {
    let counts = memberCounts()
    return "\(counts.done)D + \(counts.ongoing)R + \(counts.idle)I = \(members.count)"
  }

  func memberCounts() -> (done: Int, ongoing: Int, idle: Int) {
    var done = 0
    var ongoing = 0
    for job in members {
      switch job.status {
      case .done: done += 1
      case .running: ongoing += 1
      default: break
      }
    }
    return (done, ongoing, members.count - done - ongoing)
  }

  /// `Scheduler with 0 done + 0 ongoing + 3 idle = 3 job(s)`.
  public override var description: String {
    let counts = memberCounts()
    return "Scheduler with \(counts.done) done + \(counts.ongoing) ongoing + \(counts.idle) idle"
      + " = \(members.count) job(s)"
  }

  // MARK: - Running

  /// Runs the scheduler (see `run() -> Bool`) and returns its Boolean result as the job's value.
  @_disfavoredOverload public override func run() async throws -> (any Sendable)? {
    let succeeded: Bool = try await run()
    return succeeded
  }

  /// Runs every member as soon as its requirements are met, within the window and the timeout,
  /// then shuts every member down (concurrently, within `shutdownTimeout`).
  ///
  /// - Returns: true if every non-forever member finished in time and no critical member threw;
  ///   false otherwise when the scheduler is not critical.
  /// - Throws: before anything starts, a `SchedulerError` for a cycle or a requirement outside the
  ///   scheduler (at any depth) or a run already in progress; when the scheduler is critical, the
  ///   error of the critical member that threw, or a `SchedulerTimeoutError`; `CancellationError`
  ///   when the calling task is cancelled (every job, nested ones included, is cancelled then).
  public func run() async throws -> Bool {
    try await execute(path: [self])
  }

  override func runAsMember(_ context: RunContext) async throws -> (any Sendable)? {
    try await execute(path: context.path + [self], parent: context)
  }

  /// As a member of a parent scheduler: shuts the members down, unless the last run already did
  /// (bounded by `shutdownTimeout` on the clock of the run it belongs to).
  public override func shutdown() async {
    let (needed, runClock) = outcome.withLock { state in
      defer { state.didShutdown = true }
      return (!state.didShutdown, state.clock)
    }
    if needed { await shutdownMembers(clock: runClock ?? clock) }
  }

  // MARK: - Events

  /// Called synchronously, from the run's task, for each event of this scheduler and of its nested
  /// schedulers (see `SchedulerEvent`). Keep it short.
  public var eventHandler: (@Sendable (SchedulerEvent) -> Void)? {
    get { observers.withLock { $0.handler } }
    set {
      observers.withLock { state in
        let before = state.handler != nil
        state.handler = newValue
        let after = newValue != nil
        if before != after { observerCount.add(after ? 1 : -1, ordering: .relaxed) }
      }
    }
  }

  /// A stream of the events of this scheduler and of its nested schedulers, from now until the end
  /// of the next (or current) run of this scheduler, when the stream finishes.
  public func events(
    bufferingPolicy: AsyncStream<SchedulerEvent>.Continuation.BufferingPolicy = .unbounded
  ) -> AsyncStream<SchedulerEvent> {
    let (stream, continuation) = AsyncStream.makeStream(
      of: SchedulerEvent.self, bufferingPolicy: bufferingPolicy)
    let key = observers.withLock { state in
      defer { state.nextStream += 1 }
      state.streams[state.nextStream] = continuation
      return state.nextStream
    }
    observerCount.add(1, ordering: .relaxed)
    // A consumer that stops listening (its task cancelled, the stream dropped) is forgotten.
    continuation.onTermination = { [weak self] _ in
      guard let self else { return }
      let removed = self.observers.withLock { $0.streams.removeValue(forKey: key) != nil }
      if removed { self.observerCount.add(-1, ordering: .relaxed) }
    }
    return stream
  }

  /// Whether events of this scheduler's jobs need to be built.
  var isObserved: Bool { verbose || observerCount.load(ordering: .relaxed) > 0 }

  /// Hands an event to the handler and the streams.
  func deliver(_ event: SchedulerEvent) {
    let (handler, streams) = observers.withLock { ($0.handler, Array($0.streams.values)) }
    handler?(event)
    for stream in streams { stream.yield(event) }
  }

  /// Finishes the event streams at the end of a run.
  func finishStreams() {
    let streams = observers.withLock { state in
      defer { state.streams = [:] }
      return Array(state.streams.values)
    }
    if !streams.isEmpty { observerCount.add(-streams.count, ordering: .relaxed) }
    for stream in streams { stream.finish() }
  }
}
