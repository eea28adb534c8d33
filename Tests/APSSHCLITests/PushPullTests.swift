import APSSHCLI
import Foundation
import Testing

/// appush and appull against the shared testbed (every host shares one home directory: remote
/// names are made distinct with {host}).
@Suite struct PushPullTests {
  @Test func pushThenPullPerHost() async throws {
    let fleet = try await Fleet.shared()
    let directory = temporaryDirectory()
    let tag = UUID().uuidString.prefix(6)
    let local = directory + "/greeting-\(tag).txt"
    try write("hello push\n", to: local)
    let targets = fleet.targets([0, 1])
    let pushed = await appush(fleet.auth + targets + [local, "@:cli-push-\(tag)-{host}-{user}.txt"])
    #expect(pushed.code == 0, "\(pushed.stderr)")
    let check = await apssh(
      fleet.auth + targets + ["-r", "cat", "cli-push-\(tag)-*-\(fleet.testbed.username).txt", "|", "sort", "-u"])
    #expect(check.stdout.contains("hello push"))
    let pulled = await appull(
      fleet.auth + targets + ["@:cli-push-\(tag)-{host}-{user}.txt", directory + "/back/{host}.txt"])
    #expect(pulled.code == 0, "\(pulled.stderr)")
    for index in 0..<2 {
      let text = try String(contentsOfFile: "\(directory)/back/\(fleet.address(index)).txt", encoding: .utf8)
      #expect(text == "hello push\n")
    }
    _ = await apssh(fleet.auth + targets + ["rm", "-f", "cli-push-\(tag)-*"])
  }

  @Test func recursiveAndPreserve() async throws {
    let fleet = try await Fleet.shared()
    let directory = temporaryDirectory()
    let tag = UUID().uuidString.prefix(6)
    let tree = directory + "/tree-\(tag)"
    try FileManager.default.createDirectory(atPath: tree + "/sub", withIntermediateDirectories: true)
    try write("leaf\n", to: tree + "/sub/leaf.txt")
    let pushed = await appush(fleet.auth + fleet.targets([2]) + ["-r", "--preserve", tree, "@:"])
    #expect(pushed.code == 0, "\(pushed.stderr)")
    let pulled = await appull(fleet.auth + fleet.targets([2]) + ["-r", "@:tree-\(tag)", directory + "/copy-{host}"])
    #expect(pulled.code == 0, "\(pulled.stderr)")
    let copy = "\(directory)/copy-\(fleet.address(2))"
    let found = FileManager.default.enumerator(atPath: copy)?.allObjects.compactMap { $0 as? String } ?? []
    #expect(found.contains { $0.hasSuffix("sub/leaf.txt") }, "\(found)")
    _ = await apssh(fleet.auth + fleet.targets([2]) + ["rm", "-rf", "tree-\(tag)"])
  }

  @Test func remotePathsMustStartWithAt() async throws {
    let fleet = try await Fleet.shared()
    let push = await appush(fleet.auth + fleet.targets([3]) + ["a", "/tmp/b"])
    #expect(push.code == 2)
    #expect(push.stderr.contains("/tmp/b is not remote - should start with @:"))
    let pull = await appull(fleet.auth + fleet.targets([3]) + ["/etc/hostname", "x"])
    #expect(pull.code == 2)
    #expect(pull.stderr.contains("is not remote"))
    let few = await appull(fleet.auth + fleet.targets([3]) + ["@:x"])
    #expect(few.code == 2)
  }

  @Test func missingRemoteFileFailsThatHost() async throws {
    let fleet = try await Fleet.shared()
    let result = await appull(
      fleet.auth + fleet.targets([4]) + ["@:no-such-file-\(UUID().uuidString)", temporaryDirectory() + "/x"])
    #expect(result.code == 1)
    #expect(result.stderr.contains(fleet.address(4)), "\(result.stderr)")
  }

  @Test func dryRunAndJSON() async throws {
    let fleet = try await Fleet.shared()
    let dry = await appush(["-n", "-l", "u", "-t", "h[1-2]", "a", "@:"])
    #expect(dry.stdout == "u@h1\nu@h2\n")
    let local = temporaryDirectory() + "/j.txt"
    try write("j", to: local)
    let json = await appush(
      fleet.auth + fleet.targets([5]) + ["--json", local, "@:cli-json-\(UUID().uuidString.prefix(6)).txt"])
    #expect(json.code == 0, "\(json.stderr)")
    let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
    #expect(report?["tool"] as? String == "appush")
    #expect((report?["hosts"] as? [[String: Any]])?.first?["status"] as? String == "ok")
  }
}
