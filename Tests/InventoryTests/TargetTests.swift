import Testing

@testable import Inventory

@Suite struct TargetTests {
  @Test func plainForms() throws {
    #expect(try Target.parse("host") == Target(hostname: "host"))
    #expect(try Target.parse("root@host") == Target(hostname: "host", user: "root"))
    #expect(try Target.parse("host:2222") == Target(hostname: "host", port: 2222))
    #expect(try Target.parse(" u@h.example.org:22 ") == Target(hostname: "h.example.org", user: "u", port: 22))
  }

  @Test func ipv6() throws {
    #expect(try Target.parse("[::1]:2222") == Target(hostname: "::1", port: 2222))
    #expect(try Target.parse("[fe80::1]") == Target(hostname: "fe80::1"))
    #expect(try Target.parse("::1") == Target(hostname: "::1"))
    #expect(try Target.parse("u@[::1]:22").description == "u@[::1]:22")
  }

  @Test func rangeWithColonKeepsPortOutside() throws {
    let target = try Target.parse("10.0.0.[1:2]:2222")
    #expect(target.hostname == "10.0.0.[1:2]")
    #expect(target.port == 2222)
    #expect(try target.expandingRanges().map(\.description) == ["10.0.0.1:2222", "10.0.0.2:2222"])
  }

  @Test func gatewayChains() throws {
    let two = try Target.parse("gwuser@gw->user@host")
    #expect(two.hostname == "host")
    #expect(two.user == "user")
    #expect(two.gateway == Target(hostname: "gw", user: "gwuser"))
    #expect(two.description == "gwuser@gw->user@host")

    let three = try Target.parse("a->b:2200->c")
    #expect(three.hostname == "c")
    #expect(three.gateway?.hostname == "b")
    #expect(three.gateway?.port == 2200)
    #expect(three.gateway?.gateway?.hostname == "a")
    #expect(three.description == "a->b:2200->c")

    let unicode = try Target.parse("gw\u{2192}host")
    #expect(unicode.gateway?.hostname == "gw")
  }

  @Test func explicitDirect() throws {
    let direct = try Target.parse("None->127.0.0.1")
    #expect(direct.forceDirect)
    #expect(direct.gateway == nil)
  }

  @Test(arguments: ["", "a@b@c", "@host", "user@", "->host", "None", "host:"])
  func badTargets(text: String) {
    #expect(throws: InventoryError.self) { try Target.parse(text) }
  }

  @Test(arguments: ["host:0", "host:65536", "host:ssh", "u@h:-1"])
  func badPorts(text: String) throws {
    let error = try #require(throws: InventoryError.self) { try Target.parse(text) }
    #expect(error.code == .badPort)
    #expect(error.message.contains("between 1 and 65535"))
  }

  @Test func defaultUserReachesGateways() throws {
    let target = try Target.parse("gw->root@host").withDefaultUser("me")
    #expect(target.user == "root")
    #expect(target.gateway?.user == "me")
  }
}
