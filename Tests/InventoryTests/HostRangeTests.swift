import Testing

@testable import Inventory

@Suite struct HostRangeTests {
  @Test func noBracketIsItself() throws {
    #expect(try HostRange.expand("node1") == ["node1"])
  }

  @Test func zeroPaddingIsKept() throws {
    let names = try HostRange.expand("node[01-16]")
    #expect(names.count == 16)
    #expect(names.first == "node01")
    #expect(names[8] == "node09")
    #expect(names.last == "node16")
  }

  @Test func commaItems() throws {
    #expect(try HostRange.expand("node[1-4,7]") == ["node1", "node2", "node3", "node4", "node7"])
  }

  @Test func ansibleColonAndStep() throws {
    #expect(try HostRange.expand("10.0.0.[1:3]") == ["10.0.0.1", "10.0.0.2", "10.0.0.3"])
    #expect(try HostRange.expand("www[01:10:3]") == ["www01", "www04", "www07", "www10"])
  }

  @Test func letters() throws {
    #expect(try HostRange.expand("rack[a-c]") == ["racka", "rackb", "rackc"])
    #expect(try HostRange.expand("rack[A:B]") == ["rackA", "rackB"])
  }

  @Test func cartesianProduct() throws {
    #expect(try HostRange.expand("r[1-2]n[1-2].lab") == ["r1n1.lab", "r1n2.lab", "r2n1.lab", "r2n2.lab"])
  }

  @Test(arguments: [
    ("node[1-3", "without its ']'"),
    ("node1-3]", "without its '['"),
    ("node[5-1]", "reversed"),
    ("node[1-]", "not a range"),
    ("node[]", "empty item"),
    ("node[1:5:0]", "step"),
    ("node[1-1000000]", "more than 100000"),
    ("n[1-1000]m[1-1000]", "more than 100000"),
    ("node[a-5]", "not a range"),
    ("node[[1-2]]", "nested"),
  ])
  func errors(pattern: String, fragment: String) {
    do {
      _ = try HostRange.expand(pattern)
      Issue.record("\(pattern) should not expand")
    } catch let error as InventoryError {
      #expect(error.code == .badRange)
      #expect(error.message.contains(fragment), "\(error.message)")
      #expect(error.message.contains(pattern))
    } catch {
      Issue.record("unexpected \(error)")
    }
  }
}
