/// Text listings: ids, `list()`, `debrief()`. Nothing is printed; the text is returned.
extension Scheduler {
  /// The listing of the tree, one line per job (each ending with a newline), in topological order:
  /// `"{id} {badge} {indent}<Type `label`> {result} {requires}"`; a nested scheduler adds
  /// `-> entries={…}`, then its members indented with `>`, then `"{id} --end-- < <Scheduler `…`>
  /// exits={…}"`. Ids are numbered depth-first from 1, zero-padded to the width of the total count.
  /// - Parameters:
  ///   - details: add each job's `details` on its own line.
  ///   - symbols: force Unicode or ASCII badges (default: from the locale).
  public func list(details: Bool = false, symbols: ListingSymbols? = nil) -> String {
    let ids = listingIDs()
    var text = ""
    appendListing(to: &text, depth: 0, ids: ids, details: details, symbols: symbols ?? .current)
    return text
  }

  /// `----- {why()}`, the listing, then a summary of the jobs that threw: for each critical one a
  /// framed block with its error, and a `non-critical: {label}: exception {error}` line for others.
  public func debrief(details: Bool = false, symbols: ListingSymbols? = nil) -> String {
    let symbols = symbols ?? .current
    var text = "----- \(why())\n" + list(details: details, symbols: symbols)
    let ids = listingIDs()
    let raisers = orderedMembers().filter { $0.error != nil }
    guard !raisers.isEmpty else { return text }
    let critical = raisers.filter { $0.critical }
    text += "===== \(raisers.count) job(s) with an exception, including \(critical.count) critical\n"
    for job in critical {
      let id = ids[ObjectIdentifier(job)] ?? "??"
      let error = job.error.map { "\(type(of: $0)): \($0)" } ?? ""
      text += "    ********************\n"
      text += "    ... error of CRITICAL JOB \(id) \(job.badge(symbols)) \(job.mainText)\n"
      text += "    \(error)\n"
      text += "    ********************\n"
    }
    for job in raisers where !job.critical {
      text += "non-critical: \(job.effectiveLabel): exception \(job.error.map { "\($0)" } ?? "")\n"
    }
    return text
  }

  /// The members in topological order, or in insertion order if there is a cycle.
  func orderedMembers() -> [AbstractJob] {
    (try? topologicalOrder()) ?? members
  }

  /// The number of jobs in the tree, nested schedulers counting as one plus their contents.
  func totalCount() -> Int {
    members.reduce(0) { total, job in total + 1 + ((job as? Scheduler)?.totalCount() ?? 0) }
  }

  /// Listing ids of every job of the tree: depth-first pre-order in topological order, from 1,
  /// zero-padded to the number of digits of the total count.
  func listingIDs() -> [ObjectIdentifier: String] {
    let width = String(totalCount()).count
    var ids: [ObjectIdentifier: String] = [:]
    var next = 1
    func number(_ scheduler: Scheduler) {
      for job in scheduler.orderedMembers() {
        let digits = String(next)
        ids[ObjectIdentifier(job)] = String(repeating: "0", count: max(0, width - digits.count)) + digits
        next += 1
        if let nested = job as? Scheduler { number(nested) }
      }
    }
    number(self)
    return ids
  }

  private func appendListing(
    to text: inout String, depth: Int, ids: [ObjectIdentifier: String], details: Bool,
    symbols: ListingSymbols
  ) {
    func idList(_ jobs: [AbstractJob]) -> String {
      jobs.map { ids[ObjectIdentifier($0)] ?? "??" }.joined(separator: ", ")
    }
    let indent = depth > 0 ? String(repeating: ">", count: depth) + " " : ""
    for job in orderedMembers() {
      let id = ids[ObjectIdentifier(job)] ?? "??"
      let requires = job.requirements.isEmpty ? "" : "requires={\(idList(job.requirements))}"
      var line = "\(id) \(job.badge(symbols)) \(indent)\(job.mainText) \(job.resultText) \(requires)"
      if let nested = job as? Scheduler {
        line += " -> entries={\(idList(nested.entryJobs))}"
        text += line + "\n"
        nested.appendListing(to: &text, depth: depth + 1, ids: ids, details: details, symbols: symbols)
        let arrows = String(repeating: "<", count: depth + 1)
        text += "\(id) --end-- \(arrows) \(job.mainText) exits={\(idList(nested.exitJobs()))}\n"
      } else {
        text += line + "\n"
        if details, let more = job.details { text += more + "\n" }
      }
    }
  }
}
