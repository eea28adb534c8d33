extension AbstractJob {
  /// The 4-slot badge: `"{crit} {boom} {state} {forever}"`, e.g. `⚠ ☉ ☓  `.
  func badge(_ symbols: ListingSymbols) -> String {
    let snapshot = state.withLock { ($0.status, $0.error != nil) }
    let crit = critical ? symbols.critical : " "
    let boom: String
    if snapshot.1 {
      boom = symbols.raised
    } else if snapshot.0 == .running || snapshot.0 == .done {
      boom = symbols.ran
    } else {
      boom = symbols.nothing
    }
    let ever = forever ? symbols.forever : " "
    return "\(crit) \(boom) \(symbols.state(snapshot.0)) \(ever)"
  }

  /// The type name of a job: `Job`, `Scheduler`, or the subclass name.
  var typeName: String { String(describing: type(of: self)) }

  /// ``<Job `label`>``.
  var mainText: String { "<\(typeName) `\(effectiveLabel)`>" }

  /// `!! CRIT. EXC. => Type:message!!`, `!! exception => Type:message!!`, `[[ -> result]]` or
  /// `[not done]`.
  var resultText: String {
    let snapshot = state.withLock { ($0.status, $0.result, $0.error) }
    if let error = snapshot.2 {
      let what = "\(type(of: error)):\(error)"
      return critical ? "!! CRIT. EXC. => \(what)!!" : "!! exception => \(what)!!"
    }
    if snapshot.0 == .done {
      return "[[ -> \(snapshot.1.map { String(describing: $0) } ?? "nil")]]"
    }
    return "[not done]"
  }
}
