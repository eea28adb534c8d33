import Foundation
import Testing

@testable import Inventory

@Suite struct InventoryFileTests {
  static let yaml = """
    all:
      vars:
        user: root
        color: blue
      hosts:
        lonely:
      children:
        web:
          vars:
            user: webadmin
            color: green
          hosts:
            node[01:03]:
            special:
              ansible_host: 127.0.0.9
              ansible_port: 2222
              color: red
          children:
            canary:
              hosts:
                node02:
              vars:
                color: yellow
        db:
          hosts:
            db1: {host: 127.0.0.5, key: ~/.ssh/db, user: dba}
            node01:
    """

  @Test func groupsAndInheritance() throws {
    let inventory = try Inventory.parse(yaml: Self.yaml, path: "inv.yaml")
    #expect(inventory.groupNames == ["all", "web", "canary", "db"])
    #expect(try inventory.hostNames(inGroup: "web") == ["node01", "node02", "node03", "special"])
    #expect(
      try inventory.hostNames(inGroup: "all")
        == ["lonely", "node01", "node02", "node03", "special", "db1"])
    #expect(inventory.vars(forHost: "lonely")?["color"] == "blue")
    #expect(inventory.vars(forHost: "node03")?["color"] == "green")
    #expect(inventory.vars(forHost: "node02")?["color"] == "yellow")  // deeper group wins
    #expect(inventory.vars(forHost: "special")?["color"] == "red")  // host wins
    #expect(inventory.vars(forHost: "node01")?["user"] == "webadmin")
    #expect(inventory.vars(forHost: "nope") == nil)
  }

  @Test func targetsFromVars() throws {
    let inventory = try Inventory.parse(yaml: Self.yaml, path: "inv.yaml")
    let special = try inventory.target(forHost: "special")
    #expect(special.hostname == "127.0.0.9")
    #expect(special.port == 2222)
    #expect(special.user == "webadmin")
    #expect(special.name == "special")
    let db1 = try inventory.target(forHost: "db1")
    #expect(db1.hostname == "127.0.0.5")
    #expect(db1.user == "dba")
    #expect(db1.keyPath == "~/.ssh/db")
    #expect(try inventory.hosts(inGroup: "db").map(\.name) == ["db1", "node01"])
  }

  @Test func unknownGroupListsKnownOnes() throws {
    let inventory = try Inventory.parse(yaml: Self.yaml, path: "inv.yaml")
    let error = try #require(throws: InventoryError.self) { try inventory.hostNames(inGroup: "foo") }
    #expect(error.code == .unknownGroup)
    #expect(error.message.contains("@foo"))
    #expect(error.message.contains("all, web, canary, db"))
  }

  @Test func gatewayHostOrTarget() throws {
    let text = """
      all:
        hosts:
          gw: {ansible_host: 127.0.0.2, user: jump}
          a: {gateway: gw}
          b: {gateway: "admin@bastion:2200"}
          c: {gateway: "None"}
      """
    let inventory = try Inventory.parse(yaml: text)
    #expect(try inventory.target(forHost: "a").description == "jump@127.0.0.2->a")
    #expect(try inventory.target(forHost: "b").gateway == Target(hostname: "bastion", user: "admin", port: 2200))
    #expect(try inventory.target(forHost: "c").forceDirect)
  }

  @Test func gatewayLoopIsAnError() {
    let text = "all:\n  hosts:\n    a: {gateway: b}\n    b: {gateway: a}\n"
    #expect(throws: InventoryError.self) { try Inventory.parse(yaml: text) }
  }

  @Test func badYAMLHasItsLine() throws {
    let text = "all:\n  hosts:\n    a:\n   b: [\n"
    let error = try #require(throws: InventoryError.self) { try Inventory.parse(yaml: text, path: "x.yaml") }
    #expect(error.code == .badYAML)
    #expect(error.file == "x.yaml")
    #expect(error.line == 4 || error.line == 5)
    #expect(error.description.hasPrefix("x.yaml:"))
  }

  @Test func badYAMLLineFromFile() throws {
    let dir = try TempDir()
    defer { dir.remove() }
    let path = try dir.write("all:\n  hosts:\n    a:\n    b: : c\n", to: "bad.yaml")
    let error = try #require(throws: InventoryError.self) { try Inventory.load(path: path) }
    #expect(error.code == .badYAML)
    #expect(error.line == 4)
    #expect(error.description.contains("bad.yaml:4:"))
  }

  @Test func badPortNamesFileAndLine() throws {
    let text = "all:\n  hosts:\n    a:\n      port: 70000\n"
    let error = try #require(throws: InventoryError.self) { try Inventory.parse(yaml: text, path: "p.yaml") }
    #expect(error.code == .badPort)
    #expect(error.line == 4)
    #expect(error.description.hasPrefix("p.yaml:4:"))
    #expect(error.message.contains("70000"))
  }

  @Test func hostsNotAMapping() throws {
    let text = "all:\n  children:\n    web:\n      hosts:\n        - a\n        - b\n"
    let error = try #require(throws: InventoryError.self) { try Inventory.parse(yaml: text, path: "h.yaml") }
    #expect(error.code == .badStructure)
    #expect(error.line == 5)
    #expect(error.message.contains("'hosts:' of group 'web'"))
    #expect(error.message.contains("found a list"))
  }

  @Test func unknownGroupKey() throws {
    let text = "all:\n  host:\n    a:\n"
    let error = try #require(throws: InventoryError.self) { try Inventory.parse(yaml: text) }
    #expect(error.code == .unknownKey)
    #expect(error.line == 2)
  }

  @Test func badRangeInHostKey() throws {
    let text = "all:\n  hosts:\n    node[5:1]:\n"
    let error = try #require(throws: InventoryError.self) { try Inventory.parse(yaml: text, path: "r.yaml") }
    #expect(error.code == .badRange)
    #expect(error.line == 3)
  }

  @Test func missingFile() throws {
    let error = try #require(throws: InventoryError.self) { try Inventory.load(path: "/nonexistent/inv.yaml") }
    #expect(error.code == .missingFile)
    #expect(error.description.contains("/nonexistent/inv.yaml"))
  }

  @Test func emptyYAMLIsEmpty() throws {
    #expect(try Inventory.parse(yaml: "# nothing\n").hostNames.isEmpty)
  }

  @Test func ini() throws {
    let text = """
      loose ansible_host=127.0.0.1
      [web]
      node[1:2] ansible_user=webby
      special:2222 color="light red"  # comment
      [web:vars]
      color=green
      [prod:children]
      web
      db
      [db]
      db1 port=2200
      [prod:vars]
      user=root
      color=blue
      """
    let inventory = try Inventory.parse(ini: text, path: "x.ini")
    #expect(try inventory.hostNames(inGroup: "ungrouped") == ["loose"])
    #expect(try inventory.hostNames(inGroup: "prod") == ["node1", "node2", "special", "db1"])
    #expect(inventory.vars(forHost: "special")?["color"] == "light red")
    #expect(inventory.vars(forHost: "node1")?["color"] == "green")
    #expect(inventory.vars(forHost: "db1")?["color"] == "blue")
    #expect(try inventory.target(forHost: "node1").user == "webby")
    #expect(try inventory.target(forHost: "db1").user == "root")
    #expect(try inventory.target(forHost: "db1").port == 2200)
    #expect(try inventory.target(forHost: "special").port == 2222)
    #expect(try inventory.target(forHost: "loose").hostname == "127.0.0.1")
  }

  @Test func iniErrorsHaveLines() throws {
    let port = try #require(throws: InventoryError.self) {
      try Inventory.parse(ini: "[web]\nh1\nh2 ansible_port=0\n", path: "x.ini")
    }
    #expect(port.code == .badPort)
    #expect(port.description.hasPrefix("x.ini:3: "))
    let section = try #require(throws: InventoryError.self) {
      try Inventory.parse(ini: "[web:hosts]\n", path: "x.ini")
    }
    #expect(section.line == 1)
    let assignment = try #require(throws: InventoryError.self) {
      try Inventory.parse(ini: "[web]\nh1 novalue\n", path: "x.ini")
    }
    #expect(assignment.line == 2)
  }

  @Test func formatDetection() {
    #expect(Inventory.detectFormat(text: "# c\n[web]\nh1\n") == .ini)
    #expect(Inventory.detectFormat(text: "all:\n  hosts:\n") == .yaml)
    #expect(Inventory.detectFormat(text: "host1 host2\nuser@h3\n") == nil)
    #expect(Inventory.detectFormat(text: "[::1]:22\n") == nil)
    #expect(Inventory.detectFormat(text: "[::1]\n") == nil)
    #expect(Inventory.detectFormat(text: "[db:children]\nweb\n") == .ini)
  }

  @Test func defaultPaths() throws {
    let dir = try TempDir()
    defer { dir.remove() }
    #expect(Inventory.defaultPaths(home: dir.path).isEmpty)
    let path = try dir.write("all:\n", to: ".apssh/inventory.yaml")
    #expect(Inventory.defaultPaths(home: dir.path) == [path])
  }
}

@Suite("INI section headers")
struct IniSectionHeaderTests {
  @Test(
    "headers",
    arguments: [
      ("[web]", true), ("[web:vars]", true), ("[web:children]", true), ("[a.b-c_1]", true), ("[_x]", true),
      ("[1web]", false), ("[-x]", false), ("[.x]", false), ("[]", false), ("[:vars]", false),
      ("[web:hosts]", false), ("[web", false), ("web]", false), ("[we b]", false), ("[é]", false),
      ("[::1]", false), ("[web:vars:vars]", false),
    ])
  func header(line: String, expected: Bool) {
    #expect(Inventory.isIniSectionHeader(line) == expected)
  }
}
