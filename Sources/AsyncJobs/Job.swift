/// A job whose body is an async closure; unlike Python's coroutine objects, the body can run again
/// (retries, re-runs of the scheduler).
///
/// ```swift
/// let fetch = Job(label: "fetch") { try await download() }
/// ```
/// A body that returns nothing (`Void`) leaves `result` nil.
public final class Job: AbstractJob, @unchecked Sendable {
  /// The body, called by `run()`.
  public let body: @Sendable () async throws -> (any Sendable)?
  /// The optional shutdown action, called by `shutdown()`.
  public let shutdownBody: (@Sendable () async -> Void)?

  /// Creates a job from a closure.
  /// - Parameters:
  ///   - label: a label for listings and graphs.
  ///   - critical: whether its failure aborts its scheduler (default true).
  ///   - forever: whether it runs until its scheduler's finite jobs are done.
  ///   - requires: the jobs it waits for.
  ///   - timeout: a per-attempt time limit for the body.
  ///   - retries: how many more times to run the body after it throws.
  ///   - retryDelay: the pause before each retry.
  ///   - shutdown: an action run by `shutdown()` at the end of the scheduler's run.
  ///   - body: the job's body.
  public init(
    label: String? = nil, critical: Bool = true, forever: Bool = false, requires: [AbstractJob] = [],
    timeout: Duration? = nil, retries: Int = 0, retryDelay: Duration = .zero,
    shutdown: (@Sendable () async -> Void)? = nil,
    _ body: @escaping @Sendable () async throws -> (any Sendable)?
  ) {
    self.body = body
    self.shutdownBody = shutdown
    super.init(
      label: label, critical: critical, forever: forever, requires: requires, timeout: timeout,
      retries: retries, retryDelay: retryDelay)
  }

  /// Calls the body; a `Void` result becomes nil.
  public override func run() async throws -> (any Sendable)? {
    let value = try await body()
    return value is Void ? nil : value
  }

  /// Calls the shutdown action, if any.
  public override func shutdown() async {
    await shutdownBody?()
  }

  override var needsShutdown: Bool { shutdownBody != nil }
}
