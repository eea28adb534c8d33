import Foundation
import Testing

@testable import Inventory

/// Every file of inventories/ and examples/scenarios/ must stay valid.
@Suite struct ExampleFilesTests {
  static func files(in directory: String, extensions: Set<String>) -> [String] {
    let full = repositoryRoot + "/" + directory
    let names = (try? FileManager.default.contentsOfDirectory(atPath: full)) ?? []
    return names.sorted().filter { extensions.contains(($0 as NSString).pathExtension) }
      .map { full + "/" + $0 }
  }

  /// Values for the `{{ name }}` of the example scenarios.
  static let variables = ["user": "apsshuser", "window": "4"]

  @Test func inventoriesParse() throws {
    let paths = Self.files(in: "inventories", extensions: ["yaml", "yml", "ini"])
    #expect(paths.count >= 3)
    for path in paths {
      let inventory = try Inventory.load(path: path)
      #expect(!inventory.hostNames.isEmpty, "\(path)")
      #expect(!(try inventory.hosts(inGroup: "all")).isEmpty)
    }
  }

  @Test func scenariosParse() throws {
    let paths = Self.files(in: "examples/scenarios", extensions: ["yaml", "yml"])
    #expect(paths.count >= 2)
    for path in paths {
      // demo.yaml runs on the group of a testbed's inventory.
      let testbed = try Inventory.parse(yaml: "testbed:\n  hosts:\n    127.0.0.[2-9]:\n")
      let inventory = try Inventory.load(path: repositoryRoot + "/inventories/ranges-and-groups.yaml")
      let resolver = TargetResolver(inventories: [inventory, testbed], fallbackDirectory: nil)
      let spec = try ScenarioFile.load(path: path, variables: Self.variables, resolver: resolver)
      #expect(!spec.jobs.isEmpty, "\(path)")
    }
  }

  @Test func exampleContents() throws {
    let ranges = try Inventory.load(path: repositoryRoot + "/inventories/ranges-and-groups.yaml")
    #expect(try ranges.hosts(inGroup: "prod").count == 6)
    #expect(try ranges.target(forHost: "db2").description == "dbadmin@127.0.0.7")
    #expect(try ranges.target(forHost: "127.0.0.3").user == "apsshuser")
    let gateway = try Inventory.load(path: repositoryRoot + "/inventories/gateway.yaml")
    #expect(
      try gateway.hosts(inGroup: "behind").map(\.description).first
        == "apsshuser@127.0.0.2->apsshuser@node01")
    let ini = try Inventory.load(path: repositoryRoot + "/inventories/example.ini")
    #expect(try ini.target(forHost: "web3").description == "apsshuser@127.0.0.2->apsshuser@127.0.0.5:22")
    #expect(ini.vars(forHost: "127.0.0.3")?["motd"] == "hello world")
  }
}
