/// The indexed graph of a scheduler's direct members: dense indices, requirement and successor lists
/// in compressed form. Built in O(jobs + edges); validates that every requirement is a member.
struct RunPlan {
  /// The members, in insertion order; a job's index is its position.
  let jobs: [AbstractJob]
  /// Requirements of job `i`: `predecessors[predecessorStart[i] ..< predecessorStart[i + 1]]`.
  private(set) var predecessorStart: [Int32]
  private(set) var predecessors: [Int32]

  /// Indexes `scheduler`'s members; throws if a requirement is not a member.
  init(_ scheduler: Scheduler) throws(SchedulerError) {
    jobs = scheduler.members
    let jobs = self.jobs
    let count = jobs.count
    for (position, job) in jobs.enumerated() {
      job.planIndex.store(Int32(position), ordering: .relaxed)
    }
    // Fallback when a hint was overwritten (a job planned by two schedulers at once).
    var index: [ObjectIdentifier: Int32]?
    func position(of job: AbstractJob) -> Int32? {
      let hint = Int(job.planIndex.load(ordering: .relaxed))
      if hint >= 0 && hint < count && jobs[hint] === job { return Int32(hint) }
      if index == nil {
        var map = [ObjectIdentifier: Int32](minimumCapacity: count)
        for (position, member) in jobs.enumerated() { map[ObjectIdentifier(member)] = Int32(position) }
        index = map
      }
      return index?[ObjectIdentifier(job)]
    }
    predecessorStart = []
    predecessorStart.reserveCapacity(count + 1)
    predecessors = []
    predecessorStart.append(0)
    for job in jobs {
      for requirement in job.requirements {
        guard let position = position(of: requirement) else {
          throw .requirementOutsideScheduler(
            scheduler: scheduler.effectiveLabel, job: job.effectiveLabel,
            requirement: requirement.effectiveLabel)
        }
        predecessors.append(position)
      }
      predecessorStart.append(Int32(predecessors.count))
    }
  }

  /// The number of requirements of each job.
  func inDegrees() -> [Int32] {
    (0..<jobs.count).map { predecessorStart[$0 + 1] - predecessorStart[$0] }
  }

  /// Successor lists: `targets[start[i] ..< start[i + 1]]`, each in insertion order.
  func successors() -> (start: [Int32], targets: [Int32]) {
    let count = jobs.count
    var start = [Int32](repeating: 0, count: count + 1)
    for predecessor in predecessors { start[Int(predecessor) + 1] += 1 }
    for position in 0..<count { start[position + 1] += start[position] }
    var fill = start
    var targets = [Int32](repeating: 0, count: predecessors.count)
    for job in 0..<count {
      for edge in Int(predecessorStart[job])..<Int(predecessorStart[job + 1]) {
        let predecessor = Int(predecessors[edge])
        targets[Int(fill[predecessor])] = Int32(job)
        fill[predecessor] += 1
      }
    }
    return (start, targets)
  }

  /// A topological order (requirements first): depth-first, roots in insertion order, so a job's
  /// requirements come right before it when possible. Throws with the jobs of a cycle.
  func topologicalOrder(scheduler: String) throws(SchedulerError) -> [Int32] {
    let count = jobs.count
    var color = [UInt8](repeating: 0, count: count)  // 0 new, 1 on the stack, 2 done
    var order: [Int32] = []
    order.reserveCapacity(count)
    var stack: [(node: Int32, edge: Int32)] = []
    for root in 0..<count where color[root] == 0 {
      color[root] = 1
      stack.append((Int32(root), predecessorStart[root]))
      while let top = stack.last {
        let node = Int(top.node)
        if top.edge < predecessorStart[node + 1] {
          let next = Int(predecessors[Int(top.edge)])
          stack[stack.count - 1].edge += 1
          if color[next] == 0 {
            color[next] = 1
            stack.append((Int32(next), predecessorStart[next]))
          } else if color[next] == 1 {
            let from = stack.firstIndex { Int($0.node) == next } ?? 0
            let labels = stack[from...].map { jobs[Int($0.node)].effectiveLabel }
            throw .cycle(scheduler: scheduler, jobs: labels)
          }
        } else {
          color[node] = 2
          order.append(top.node)
          stack.removeLast()
        }
      }
    }
    return order
  }
}
