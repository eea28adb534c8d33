/// Graph queries and surgery on the direct members. Results are in insertion order.
extension Scheduler {
  /// Every job of the tree: leaf jobs only, or with `includingSchedulers` this scheduler first, then
  /// each nested scheduler before its contents.
  public func allJobs(includingSchedulers: Bool = false) -> [AbstractJob] {
    var result: [AbstractJob] = includingSchedulers ? [self] : []
    for job in members {
      if let nested = job as? Scheduler {
        result += nested.allJobs(includingSchedulers: includingSchedulers)
      } else {
        result.append(job)
      }
    }
    return result
  }

  /// Drops requirements on jobs that are not members, here and in nested schedulers.
  /// - Returns: true if nothing had to change.
  @discardableResult public func sanitize() -> Bool {
    var clean = true
    for job in members {
      let kept = job.requirements.filter { contains($0) }
      if kept.count != job.requirements.count {
        if verbose {
          print(
            "WARNING: job \(job.mainText) in \(effectiveLabel) had"
              + " \(job.requirements.count - kept.count) requirements removed")
        }
        job.setRequirements(kept)
        clean = false
      }
      if let nested = job as? Scheduler, !nested.sanitize() { clean = false }
    }
    return clean
  }

  /// Whether this scheduler and its nested ones are free of cycles and of requirements outside
  /// their scheduler (what `run()` checks before starting).
  public func checkCycles() -> Bool {
    do {
      try validate()
      return true
    } catch {
      if verbose { print("checkCycles failed: \(error)") }
      return false
    }
  }

  /// The direct members, requirements first (depth-first, in insertion order).
  /// - Throws: `SchedulerError` for a cycle or a requirement outside the scheduler.
  public func topologicalOrder() throws -> [AbstractJob] {
    let plan = try RunPlan(self)
    return try plan.topologicalOrder(scheduler: effectiveLabel).map { plan.jobs[Int($0)] }
  }

  /// Members with no requirement among the members.
  public var entryJobs: [AbstractJob] {
    members.filter { job in !job.requirements.contains { contains($0) } }
  }

  /// Members that no member requires; forever jobs are skipped when `discardForever`.
  public func exitJobs(discardForever: Bool = true) -> [AbstractJob] {
    var required = Set<ObjectIdentifier>()
    for job in members {
      for requirement in job.requirements { required.insert(ObjectIdentifier(requirement)) }
    }
    return members.filter { job in
      !required.contains(ObjectIdentifier(job)) && !(discardForever && job.forever)
    }
  }

  /// The members required by any of `jobs`.
  public func predecessors(of jobs: AbstractJob...) -> [AbstractJob] { predecessors(of: jobs) }

  /// The members required by any of `jobs`.
  public func predecessors(of jobs: [AbstractJob]) -> [AbstractJob] {
    let wanted = Set(jobs.flatMap { $0.requirements }.map(ObjectIdentifier.init))
    return members.filter { wanted.contains(ObjectIdentifier($0)) }
  }

  /// The members that require any of `jobs`.
  public func successors(of jobs: AbstractJob...) -> [AbstractJob] { successors(of: jobs) }

  /// The members that require any of `jobs`.
  public func successors(of jobs: [AbstractJob]) -> [AbstractJob] {
    let starts = Set(jobs.map(ObjectIdentifier.init))
    return members.filter { job in job.requirements.contains { starts.contains(ObjectIdentifier($0)) } }
  }

  /// The members that any of `jobs` requires, directly or not (`jobs` excluded unless on a cycle).
  public func upstream(of jobs: AbstractJob...) -> [AbstractJob] { upstream(of: jobs) }

  /// The members that any of `jobs` requires, directly or not (`jobs` excluded unless on a cycle).
  public func upstream(of jobs: [AbstractJob]) -> [AbstractJob] {
    closure(from: jobs) { $0.requirements }
  }

  /// The members that require any of `jobs`, directly or not (`jobs` excluded unless on a cycle).
  public func downstream(of jobs: AbstractJob...) -> [AbstractJob] { downstream(of: jobs) }

  /// The members that require any of `jobs`, directly or not (`jobs` excluded unless on a cycle).
  public func downstream(of jobs: [AbstractJob]) -> [AbstractJob] {
    let successors = successorMap()
    return closure(from: jobs) { successors[ObjectIdentifier($0)] ?? [] }
  }

  /// Removes `job` and makes each member that required it require its requirements instead.
  /// - Throws: `SchedulerError.notAMember` if `job` is not a direct member.
  public func bypassAndRemove(_ job: AbstractJob) throws {
    guard contains(job) else {
      throw SchedulerError.notAMember(scheduler: effectiveLabel, job: job.effectiveLabel)
    }
    for down in members where down.requirements.contains(where: { $0 === job }) {
      down.removeRequirement(job)
      down.requires(job.requirements)
    }
    remove(job)
  }

  /// Keeps only the members found in `jobs` (outsiders ignored), then drops dangling requirements.
  public func keepOnly(_ jobs: [AbstractJob]) {
    let keep = Set(jobs.map(ObjectIdentifier.init))
    setMembers(members.filter { keep.contains(ObjectIdentifier($0)) })
    sanitize()
  }

  /// Keeps the members downstream of `starts` (all if nil) and upstream of `ends` (all if nil),
  /// plus the starts and ends themselves if asked; then drops dangling requirements.
  public func keepOnlyBetween(
    starts: [AbstractJob]? = nil, ends: [AbstractJob]? = nil, keepStarts: Bool = true,
    keepEnds: Bool = true
  ) {
    var keep = Set((starts.map { downstream(of: $0) } ?? members).map(ObjectIdentifier.init))
    if let ends {
      keep.formIntersection(upstream(of: ends).map(ObjectIdentifier.init))
    }
    if keepStarts, let starts { keep.formUnion(starts.map(ObjectIdentifier.init)) }
    if keepEnds, let ends { keep.formUnion(ends.map(ObjectIdentifier.init)) }
    setMembers(members.filter { keep.contains(ObjectIdentifier($0)) })
    sanitize()
  }

  /// For each member, the members that require it.
  func successorMap() -> [ObjectIdentifier: [AbstractJob]] {
    var map: [ObjectIdentifier: [AbstractJob]] = [:]
    for job in members {
      for requirement in job.requirements where contains(requirement) {
        map[ObjectIdentifier(requirement), default: []].append(job)
      }
    }
    return map
  }

  /// The members reachable from `starts` through `next`, starts excluded unless reached again.
  private func closure(
    from starts: [AbstractJob], _ next: (AbstractJob) -> [AbstractJob]
  ) -> [AbstractJob] {
    var reached = Set<ObjectIdentifier>()
    var stack = starts
    while let job = stack.popLast() {
      for neighbour in next(job) where contains(neighbour) {
        if reached.insert(ObjectIdentifier(neighbour)).inserted { stack.append(neighbour) }
      }
    }
    return members.filter { reached.contains(ObjectIdentifier($0)) }
  }
}
