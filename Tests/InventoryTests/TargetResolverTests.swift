import Foundation
import Testing

@testable import Inventory

@Suite struct TargetResolverTests {
  let resolver = TargetResolver(fallbackDirectory: nil)

  @Test func literals() throws {
    let targets = try resolver.resolve(["h1 u@h2,h3:2222", "node[1-2,5]"])
    #expect(targets.map(\.description) == ["h1", "u@h2", "h3:2222", "node1", "node2", "node5"])
  }

  @Test func duplicatesRemovedAndDefaultsApplied() throws {
    var resolver = self.resolver
    resolver.defaultUser = "me"
    resolver.defaultGateway = try Target.parse("gw")
    let targets = try resolver.resolve(["a a", "None->b", "x->c"])
    #expect(targets.map(\.description) == ["me@gw->me@a", "me@b", "me@x->me@c"])
  }

  @Test func exclusionsByHostname() throws {
    let targets = try resolver.resolve(["node[1-4]", "root@node5"], excluding: ["node2,node[3-3]", "other@node5"])
    #expect(targets.map(\.hostname) == ["node1", "node4", "node5"])
    let none = try resolver.resolve(["root@node5"], excluding: ["root@node5"])
    #expect(none.isEmpty)
  }

  @Test func fileWithComments() throws {
    let dir = try TempDir()
    defer { dir.remove() }
    let path = try dir.write(
      """
      # my nodes
      h1 h2   # two on a line

      u@h3:2200
        gw->h4
      node[1-2]
      """, to: "nodes.txt")
    let targets = try resolver.resolve([path])
    #expect(targets.map(\.description) == ["h1", "h2", "u@h3:2200", "gw->h4", "node1", "node2"])
  }

  @Test func fileErrorNamesLine() throws {
    let dir = try TempDir()
    defer { dir.remove() }
    let path = try dir.write("h1\nh2:99999\n", to: "nodes")
    let error = try #require(throws: InventoryError.self) { try resolver.resolve([path]) }
    #expect(error.code == .badPort)
    #expect(error.file == path)
    #expect(error.line == 2)
  }

  @Test func markDirectory() throws {
    let dir = try TempDir()
    defer { dir.remove() }
    try dir.write("0\n", to: "run1/0ok/127.0.0.3")
    try dir.write("0\n", to: "run1/0ok/127.0.0.2")
    try dir.write("1\n", to: "run1/1failed/127.0.0.4")
    try dir.write("x", to: "run1/0ok/.hidden")
    try FileManager.default.createDirectory(
      atPath: dir.path + "/run1/0ok/subdir", withIntermediateDirectories: true)
    let targets = try resolver.resolve([dir.path + "/run1/0ok"])
    #expect(targets.map(\.hostname) == ["127.0.0.2", "127.0.0.3"])
    let rest = try resolver.resolve(["127.0.0.[2:4]"], excluding: [dir.path + "/run1/1failed"])
    #expect(rest.map(\.hostname) == ["127.0.0.2", "127.0.0.3"])
  }

  @Test func fallbackDirectory() throws {
    let dir = try TempDir()
    defer { dir.remove() }
    try dir.write("alpha beta\n", to: "mynodes")
    let resolver = TargetResolver(fallbackDirectory: dir.path)
    #expect(try resolver.resolve(["mynodes"]).map(\.hostname) == ["alpha", "beta"])
  }

  @Test func inventoryFileAsTarget() throws {
    let dir = try TempDir()
    defer { dir.remove() }
    let yaml = try dir.write("all:\n  hosts:\n    a: {host: 127.0.0.2}\n    b:\n", to: "inv.yml")
    let ini = try dir.write("[g]\nc port=2200\n", to: "hosts")
    let targets = try resolver.resolve([yaml, ini])
    #expect(targets.map(\.description) == ["127.0.0.2", "b", "c:2200"])
  }

  @Test func groupsFromInventories() throws {
    let first = try Inventory.parse(yaml: "all:\n  children:\n    web:\n      hosts:\n        w[1:2]:\n")
    let second = try Inventory.parse(ini: "[web]\nw2\nw3\n[db]\nd1 host=127.0.0.9 user=dba\n")
    let resolver = TargetResolver(inventories: [first, second], fallbackDirectory: nil)
    #expect(try resolver.resolve(["@web"]).map(\.name) == ["w1", "w2", "w3"])
    #expect(try resolver.resolve(["@all"], excluding: ["@web"]).map(\.name) == ["d1"])
    // A plain name an inventory knows gets its settings; an explicit user still wins.
    #expect(try resolver.resolve(["d1"]).map(\.description) == ["dba@127.0.0.9"])
    #expect(try resolver.resolve(["root@d1"]).map(\.description) == ["root@127.0.0.9"])
    // -x by inventory name.
    #expect(try resolver.resolve(["@db", "w1"], excluding: ["d1"]).map(\.name) == ["w1"])
  }

  @Test func unknownGroupListsKnownGroups() throws {
    let inventory = try Inventory.parse(ini: "[web]\nw1\n[db]\nd1\n")
    let resolver = TargetResolver(inventories: [inventory], fallbackDirectory: nil)
    let error = try #require(throws: InventoryError.self) { try resolver.resolve(["@foo"]) }
    #expect(error.code == .unknownGroup)
    #expect(error.message.contains("all, ungrouped, web, db") || error.message.contains("all, web, db"))
    let none = try #require(throws: InventoryError.self) { try self.resolver.resolve(["@foo"]) }
    #expect(none.message.contains("no inventory loaded"))
  }
}
