import Foundation
import Testing

@testable import Inventory

/// Inputs that used to be accepted silently or read wrongly: each now gives the right result or
/// an error that names the place and what to do.
@Suite struct InputCheckTests {
  // MARK: - Line ends

  @Test(arguments: ["\r\n", "\r"])
  func iniLineEndsOfOtherSystems(_ end: String) throws {
    let lines = ["[web]", "web1 ansible_host=10.0.0.1 ansible_port=2222", "web2", "[web:vars]", "user=root"]
    let unix = try Inventory.parse(ini: lines.joined(separator: "\n") + "\n", path: "unix.ini")
    let other = try Inventory.parse(ini: lines.joined(separator: end) + end, path: "unix.ini")
    #expect(other == unix)
    #expect(try other.target(forHost: "web1").port == 2222)
    #expect(try other.target(forHost: "web2").user == "root")
  }

  @Test func hostsFileWithCRLF() throws {
    let dir = try TempDir()
    defer { dir.remove() }
    let path = try dir.write("h1 h2\r\n# comment\r\nh3\r\n", to: "hosts.txt")
    #expect(try TargetResolver(fallbackDirectory: nil).resolve([path]).map(\.hostname) == ["h1", "h2", "h3"])
  }

  @Test func yamlWithCRLF() throws {
    let text = "all:\r\n  hosts:\r\n    web1:\r\n      port: 2222\r\n"
    #expect(try Inventory.parse(yaml: text, path: "crlf.yaml").target(forHost: "web1").port == 2222)
  }

  // MARK: - Duplicate keys and empty or odd values

  @Test func duplicateYAMLKeysAreErrors() throws {
    let text = "all:\n  hosts:\n    web1:\n      port: 2222\n      port: 2223\n"
    let error = try #require(throws: InventoryError.self) { try Inventory.parse(yaml: text, path: "dup.yaml") }
    #expect(error.line == 5)
    #expect(error.message.contains("'port' is written twice"))
    #expect(error.message.contains("line 4"))
    let hosts = "all:\n  hosts:\n    web1:\n    web2:\n    web1:\n"
    let again = try #require(throws: InventoryError.self) { try Inventory.parse(yaml: hosts, path: "dup.yaml") }
    #expect(again.line == 5 && again.key == "web1")
    let scenario =
      "nodes:\n  - id: h\n    hostname: h\njobs:\n  - id: a\n    node: h\n    commands: []\n    commands: [x]\n"
    let inScenario = try #require(throws: InventoryError.self) {
      try ScenarioFile.parse(scenario, path: "s.yaml", resolver: TargetResolver(fallbackDirectory: nil))
    }
    #expect(inScenario.line == 8)
  }

  @Test func duplicateINIVariablesAreErrors() throws {
    let error = try #require(throws: InventoryError.self) {
      try Inventory.parse(ini: "[web]\nweb1 port=22 port=23\n", path: "dup.ini")
    }
    #expect(error.line == 2 && error.key == "port")
  }

  @Test(arguments: [
    "all:\n  hosts:\n    web1:\n      ansible_host: \"\"\n",
    "all:\n  hosts:\n    web1:\n      ansible_host:\n",
    "all:\n  hosts:\n    web1:\n      user: \"  \"\n",
    "all:\n  vars:\n    ansible_ssh_private_key_file: ''\n  hosts:\n    web1:\n",
  ])
  func emptyConnectionValuesAreErrors(_ text: String) throws {
    let error = try #require(throws: InventoryError.self) { try Inventory.parse(yaml: text, path: "e.yaml") }
    #expect(error.code == .badValue)
    #expect(error.message.contains("is empty"))
    #expect(error.line != nil)
  }

  @Test(arguments: ["user: [a]", "ansible_host: {a: 1}", "port: [22]", "gateway: [a, b]"])
  func connectionValuesAreSingleValues(_ line: String) throws {
    let text = "all:\n  hosts:\n    web1:\n      \(line)\n"
    let error = try #require(throws: InventoryError.self) { try Inventory.parse(yaml: text, path: "l.yaml") }
    #expect(error.code == .badValue)
    #expect(error.line == 4)
    #expect(error.message.contains("should be a single value"))
  }

  @Test func otherVariablesMayBeLists() throws {
    let text = "all:\n  hosts:\n    web1:\n      ntp: [a, b]\n"
    let value = try #require(try Inventory.parse(yaml: text, path: "l.yaml").target(forHost: "web1").vars["ntp"])
    #expect(value.contains("a") && value.contains("b"))
  }

  @Test func emptyINIHostIsAnError() throws {
    let error = try #require(throws: InventoryError.self) {
      try Inventory.parse(ini: "web1 ansible_host=\n", path: "e.ini")
    }
    #expect(error.line == 1 && error.code == .badValue)
  }

  // MARK: - Ranges

  @Test(arguments: [
    ("127.0.0.[1-300]", "127.0.0.256"), ("10.0.[250:260].1", "10.0.256.1"), ("[1-999].0.0.1", "256.0.0.1"),
    ("10.0.0.[0001-0002]", "10.0.0.0001"),
  ])
  func addressRangesStopAt255(_ pattern: String, _ first: String) throws {
    let error = try #require(throws: InventoryError.self) { try HostRange.expand(pattern) }
    #expect(error.code == .badRange)
    #expect(error.message.contains("'\(first)'"), "\(error.message)")
  }

  @Test func rangesThatAreNotAddresses() throws {
    #expect(try HostRange.expand("node[255-256]").count == 2)
    #expect(try HostRange.expand("10.0.[0-1].[254-255]").last == "10.0.1.255")
    #expect(try HostRange.expand("h.[300-301]").count == 2)
    #expect(try HostRange.expand("1.2.3.[4-5].6") == ["1.2.3.4.6", "1.2.3.5.6"])
  }

  @Test func theHostCapCountsEveryTarget() throws {
    let resolver = TargetResolver(fallbackDirectory: nil)
    #expect(try resolver.resolve(["h[1-99999]"]).count == 99_999)
    let error = try #require(throws: InventoryError.self) {
      try resolver.resolve(["a[1-60000]", "b[1-60000]"])
    }
    #expect(error.message.contains("more than 100000 hosts"))
    #expect(error.message.contains("b[1-60000]"))
    // The same host named twice counts once.
    #expect(try resolver.resolve(["h[1-99999]", "h[1-99999]"]).count == 99_999)
  }

  // MARK: - Time limits

  @Test(arguments: ["0", "0s", "0ms", "0m0s"])
  func zeroTimeLimits(_ text: String) throws {
    #expect(try DurationParser.parse(text) == .zero)
    let error = try #require(throws: InventoryError.self) { try DurationParser.parseTimeLimit(text) }
    #expect(error.message.contains("above 0"))
    let scenario = "timeout: \(text)\nnodes:\n  - id: h\n    hostname: h\njobs:\n  - node: h\n    commands: [x]\n"
    let inScenario = try #require(throws: InventoryError.self) {
      try ScenarioFile.parse(scenario, path: "s.yaml", resolver: TargetResolver(fallbackDirectory: nil))
    }
    #expect(inScenario.line == 1 && inScenario.code == .badDuration)
  }
}

/// One name resolves the same way wherever it appears: `-t`, files, mark directories, `-g`,
/// `gw->host`.
@Suite struct SameNameSameHostTests {
  let inventory = try! Inventory.parse(
    yaml: """
      all:
        vars: {user: admin}
        hosts:
          web1: {ansible_host: 10.0.0.1, port: 2201, key: /keys/web}
          web2: {ansible_host: 10.0.0.2, port: 2202}
          bastion: {ansible_host: 10.0.0.9, user: jump}
      """, path: "inv.yaml")

  var resolver: TargetResolver { TargetResolver(inventories: [inventory], defaultUser: "me", fallbackDirectory: nil) }

  @Test func markDirectoryEntriesAreLookedUp() throws {
    let dir = try TempDir()
    defer { dir.remove() }
    // What a run writes: the address, or address:port and user@address when hosts share it.
    try dir.write("1\n", to: "run/1failed/10.0.0.1")
    try dir.write("1\n", to: "run/1failed/10.0.0.2:2202")
    try dir.write("1\n", to: "run/1failed/web1")
    let targets = try resolver.resolve([dir.path + "/run/1failed"])
    #expect(targets.map(\.name) == ["web1", "web2"])
    #expect(targets.map(\.description) == ["admin@10.0.0.1:2201", "admin@10.0.0.2:2202"])
    #expect(targets[0].keyPath == "/keys/web")
  }

  @Test func theSameNameEverywhere() throws {
    let literal = try resolver.resolve(["web1"])
    let byAddress = try resolver.resolve(["10.0.0.1"])
    let dir = try TempDir()
    defer { dir.remove() }
    let file = try dir.write("web1\n", to: "hosts")
    #expect(byAddress == literal)
    #expect(try resolver.resolve([file]) == literal)
    // An address with another port is another host.
    #expect(try resolver.resolve(["10.0.0.1:22"]).map(\.description) == ["me@10.0.0.1:22"])
  }

  @Test func gatewaysAreLookedUp() throws {
    var resolver = self.resolver
    resolver.defaultGateway = try Target.parse("bastion")
    let viaDefault = try resolver.resolve(["web2"])
    #expect(viaDefault.map(\.description) == ["jump@10.0.0.9->admin@10.0.0.2:2202"])
    let explicit = try self.resolver.resolve(["bastion->web1", "None->web2", "root@bastion->10.0.0.2"])
    #expect(
      explicit.map(\.description) == [
        "jump@10.0.0.9->admin@10.0.0.1:2201", "admin@10.0.0.2:2202", "root@10.0.0.9->admin@10.0.0.2:2202",
      ])
    #expect(explicit[0].keyPath == "/keys/web")
  }
}
