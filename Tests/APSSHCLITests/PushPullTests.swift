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

  // MARK: - Bad input and file safety (issue 12)

  /// A target that refuses connections: a run that reached the connecting stage would exit 3.
  static let refusing = ["-t", "root@127.0.0.1:1"]

  @Test func pullOfSeveralHostsIntoOnePathIsRefusedBeforeConnecting() async throws {
    let fleet = try await Fleet.shared()
    let directory = temporaryDirectory()
    let destination = directory + "/mixed.txt"
    let result = await appull(fleet.auth + ["-t", "root@127.0.0.1:1,root@127.0.0.2:1", "@:.profile", destination])
    #expect(result.code == 2, "\(result.stderr)")
    #expect(
      result.stderr.contains("appull: 2 hosts would all write to the local path \(destination): put {host} in it"),
      "\(result.stderr)")
    #expect(result.stderr.contains("\(directory)/{host}-mixed.txt"), "an example of a per-host name")
    #expect(!FileManager.default.fileExists(atPath: destination))
    // Into an existing directory: the same, with a directory example.
    let into = await appull(fleet.auth + ["-t", "root@127.0.0.1:1,root@127.0.0.2:1", "@:a", "@:b", directory])
    #expect(into.code == 2)
    #expect(into.stderr.contains("put {host} in it (e.g. \(directory)/{host})"), "\(into.stderr)")
    // {host} alike for two users of one host: {user} tells them apart.
    let users = await appull(
      fleet.auth + ["-t", "a@127.0.0.1:1,b@127.0.0.1:1", "@:x", directory + "/{host}.txt"])
    #expect(users.code == 2)
    #expect(
      users.stderr.contains("a@127.0.0.1:1 and b@127.0.0.1:1 would both write to the local path"), "\(users.stderr)")
    #expect(users.stderr.contains("tell them apart with {user} in \(directory)/{host}.txt"), "\(users.stderr)")
    let ports = await appull(fleet.auth + ["-t", "a@127.0.0.1:1,a@127.0.0.1:2", "@:x", directory + "/{fqdn}-{user}"])
    #expect(ports.code == 2)
    #expect(
      ports.stderr.contains("no placeholder of \(directory)/{fqdn}-{user} ({host}, {fqdn}, {user}) tells them apart"),
      "\(ports.stderr)")
    // One host, or a {host} per host: no objection (the refusing hosts then fail to connect).
    let one = await appull(fleet.auth + ["-t", "root@127.0.0.1:1", "@:x", destination])
    #expect(one.code == 3, "\(one.stderr)")
    let perHost = await appull(
      fleet.auth + ["-t", "root@127.0.0.1:1,root@127.0.0.2:1", "@:x", directory + "/{host}/x"])
    #expect(perHost.code == 3, "\(perHost.stderr)")
  }

  @Test func remoteSymlinksAreFollowedAndLoopsSkipped() async throws {
    let fleet = try await Fleet.shared()
    let tag = "cli-links-\(UUID().uuidString.prefix(6))"
    let setup = await apssh(
      fleet.auth + fleet.targets([6]) + [
        "mkdir -p \(tag)/sub/deep \(tag)/other && echo leaf > \(tag)/sub/deep/leaf.txt"
          + " && echo other > \(tag)/other/o.txt && echo top > \(tag)/top.txt"
          + " && ln -s ../other \(tag)/sub/link && ln -s .. \(tag)/sub/up && ln -s . \(tag)/self"
          + " && ln -s nowhere \(tag)/dead && ln -s top.txt \(tag)/top-link.txt"
      ])
    #expect(setup.code == 0, "\(setup.stderr)")
    let directory = temporaryDirectory()
    let result = await appull(fleet.auth + fleet.targets([6]) + ["-r", "@:\(tag)", directory + "/copy-{host}"])
    #expect(result.code == 0, "\(result.stderr)")
    let copy = "\(directory)/copy-\(fleet.address(6))"
    func read(_ path: String) -> String? { try? String(contentsOfFile: copy + "/" + path, encoding: .utf8) }
    // Links to a directory and to a file are followed, as scp does.
    #expect(read("sub/link/o.txt") == "other\n")
    #expect(read("top-link.txt") == "top\n")
    #expect(read("sub/deep/leaf.txt") == "leaf\n")
    // Loops and a dangling link are skipped, each named once; nothing of them is written.
    #expect(result.stderr.contains("warning: \(tag)/sub/up: directory loop (a symbolic link back to \(tag))"))
    #expect(result.stderr.contains("warning: \(tag)/self: directory loop (a symbolic link back to \(tag))"))
    #expect(result.stderr.contains("warning: \(tag)/dead: symbolic link to nothing, not copied"))
    #expect(result.stderr.components(separatedBy: "directory loop").count == 3, "\(result.stderr)")
    for skipped in ["sub/up", "self", "dead"] {
      #expect(!FileManager.default.fileExists(atPath: copy + "/" + skipped), "\(skipped)")
    }
    // No empty file left behind.
    let files = FileManager.default.enumerator(atPath: copy)?.allObjects.compactMap { $0 as? String } ?? []
    for file in files {
      let attributes = try FileManager.default.attributesOfItem(atPath: copy + "/" + file)
      if attributes[.type] as? FileAttributeType == .typeRegular {
        #expect((attributes[.size] as? Int ?? 0) > 0, "\(file) is empty")
      }
    }
    _ = await apssh(fleet.auth + fleet.targets([6]) + ["rm", "-rf", tag])
  }

  @Test func localSymlinkLoopsAreReportedOnceAndNotFollowed() async throws {
    let fleet = try await Fleet.shared()
    let directory = temporaryDirectory()
    let tag = "cli-loop-\(UUID().uuidString.prefix(6))"
    let tree = directory + "/" + tag
    let manager = FileManager.default
    try manager.createDirectory(atPath: tree + "/a/b", withIntermediateDirectories: true)
    try write("file\n", to: tree + "/a/b/file.txt")
    try manager.createSymbolicLink(atPath: tree + "/a/b/up", withDestinationPath: "../..")
    try manager.createSymbolicLink(atPath: tree + "/self", withDestinationPath: ".")
    try manager.createSymbolicLink(atPath: tree + "/dead", withDestinationPath: "nowhere")
    try manager.createSymbolicLink(atPath: tree + "/b-again", withDestinationPath: "a/b")
    #expect(mkfifo(tree + "/fifo", 0o600) == 0)
    let result = await appush(fleet.auth + fleet.targets([7]) + ["-r", tree, "@:"])
    #expect(result.code == 0, "\(result.stderr)")
    #expect(result.stderr.contains("warning: \(tree)/a/b/up: directory loop (the same directory as \(tree))"))
    #expect(result.stderr.contains("warning: \(tree)/self: directory loop (the same directory as \(tree))"))
    #expect(result.stderr.contains("warning: \(tree)/dead: symbolic link to nothing, not copied"))
    #expect(result.stderr.contains("warning: \(tree)/fifo: not a regular file or directory, not copied"))
    // Reported once each: b-again/up loops back too, as its own path.
    #expect(result.stderr.components(separatedBy: "directory loop").count == 4, "\(result.stderr)")
    let listing = await apssh(fleet.auth + fleet.targets([7]) + ["-r", "cd \(tag) && find . | sort"])
    #expect(
      listing.stdout == [".", "./a", "./a/b", "./a/b/file.txt", "./b-again", "./b-again/file.txt"].joined(
        separator: "\n") + "\n",
      "\(listing.stdout)")
    _ = await apssh(fleet.auth + fleet.targets([7]) + ["rm", "-rf", tag])
  }

  @Test func localSourcesAreCheckedBeforeConnecting() async throws {
    let fleet = try await Fleet.shared()
    let directory = temporaryDirectory()
    try write("present", to: directory + "/present.txt")
    let missing = await appush(
      fleet.auth + Self.refusing + [directory + "/present.txt", directory + "/typo.txt", "@:"])
    #expect(missing.code == 2, "\(missing.stderr)")
    #expect(missing.stderr == "appush: no such local file: \(directory)/typo.txt\n", "\(missing.stderr)")
    // Expanded per host: the path of the host that lacks its file is named.
    try write("one", to: directory + "/local-127.0.0.1")
    let perHost = await appush(
      fleet.auth + ["-t", "root@127.0.0.1:1,root@127.0.0.2:1", directory + "/local-{host}", "@:"])
    #expect(perHost.code == 2)
    #expect(
      perHost.stderr.contains(
        "no such local file: \(directory)/local-127.0.0.2 (\(directory)/local-{host} for root@127.0.0.2:1)"),
      "\(perHost.stderr)")
    let folder = await appush(fleet.auth + Self.refusing + [directory, "@:"])
    #expect(folder.code == 2)
    #expect(folder.stderr.contains("\(directory) is a directory: copy it with -r"))
    #expect(mkfifo(directory + "/fifo", 0o600) == 0)
    let fifo = await appush(fleet.auth + Self.refusing + [directory + "/fifo", "@:"])
    #expect(fifo.code == 2)
    #expect(fifo.stderr.contains("\(directory)/fifo is not a regular file or a directory"))
    // All present: it goes on to connect (and the refusing host is unreachable).
    let present = await appush(fleet.auth + Self.refusing + ["-r", directory + "/present.txt", directory, "@:"])
    #expect(present.code == 3, "\(present.stderr)")
  }

  @Test(arguments: [
    ["-o", "out"], ["-oout"], ["--out-dir", "out"], ["--out-dir=out"], ["--out", "x"], ["-d"], ["--date-time"],
    ["-f", "{line}"], ["--format={line}"], ["-tc"], ["--time-colon-format"], ["--raw-format"], ["--raw"],
    ["--json-max-output", "1K"],
  ])
  func copiesHaveNoOutputOptions(_ option: [String]) async throws {
    let fleet = try await Fleet.shared()
    let local = temporaryDirectory() + "/o.txt"
    try write("o", to: local)
    let push = await appush(fleet.auth + Self.refusing + option + [local, "@:"])
    #expect(push.code == 2)
    #expect(push.stderr.contains("is an output option of apssh, not of appush"), "\(option): \(push.stderr)")
    let pull = await appull(fleet.auth + Self.refusing + option + ["@:o.txt", local])
    #expect(pull.code == 2)
    #expect(pull.stderr.contains("is an output option of apssh, not of appull"), "\(option): \(pull.stderr)")
  }

  @Test func copyHelpListsNoOutputFormats() async throws {
    for help in [await appush(["--help"]), await appull(["--help"])] {
      #expect(help.code == 0)
      for option in [
        "--out-dir", "--date-time", "--format", "--time-colon-format", "--raw-format", "--json-max-output",
      ] {
        #expect(!help.stdout.contains(option), "\(option)")
      }
      #expect(help.stdout.contains("--json"))
      #expect(help.stdout.contains("--recursive"))
    }
  }
}
