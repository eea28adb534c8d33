import TestSupport
import Testing

@testable import Inventory

/// Folding host names into ranges, and back: property tests against `HostRange.expand`.
@Suite struct HostRangeFoldingTests {
  @Test func examples() {
    #expect(HostRange.fold(["node1", "node2", "node3", "node7"]) == ["node[1-3,7]"])
    #expect(HostRange.fold(["127.0.0.5", "127.0.0.2", "127.0.0.3", "10.0.0.1"]) == ["127.0.0.[2-3,5]", "10.0.0.1"])
    #expect(HostRange.fold(["n01", "n02", "n1", "web", "n10"]) == ["n[01-02]", "n[1,10]", "web"])
    #expect(HostRange.fold(["r1n1", "r1n2", "r2n1"]) == ["r1n[1-2]", "r2n1"])
    #expect(HostRange.fold(["a.example.org", "h[1-2]", "a.example.org"]) == ["a.example.org", "h[1-2]"])
    #expect(HostRange.fold([]) == [])
  }

  @Test func foldingThenExpandingGivesTheNamesBack() throws {
    var generator = SeededRandom(seed: 103)
    let prefixes = ["node", "n", "10.0.0.", "r1n", "host-", "", "db"]
    let suffixes = ["", ".lab", "-eth0", "x"]
    for _ in 0..<500 {
      var names: [String] = []
      for _ in 0..<Int.random(in: 1...30, using: &generator) {
        let number = Int.random(in: 0...60, using: &generator)
        let padded = Bool.random(using: &generator) && number < 10 ? "0\(number)" : "\(number)"
        names.append(prefixes.randomElement(using: &generator)! + padded + suffixes.randomElement(using: &generator)!)
        if Bool.random(using: &generator) {
          names.append(["web", "db-main", "a.b.c"].randomElement(using: &generator)!)
        }
      }
      let folded = HostRange.fold(names)
      let expanded = try folded.flatMap { try HostRange.expand($0) }
      #expect(Set(expanded) == Set(names), "\(names) -> \(folded)")
      #expect(expanded.count == Set(names).count, "no name twice: \(folded)")
      #expect(folded.count <= Set(names).count)
    }
  }
}
