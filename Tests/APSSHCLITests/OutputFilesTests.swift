import Foundation
import Testing

/// `-o DIR`, `-d` and `--mark` against the shared testbed: nothing is written through a link nor
/// outside the directory, and a reused directory holds this run's files and marks only.
@Suite struct OutputFilesTests {
  @Test func aLinkInTheOutputDirectoryIsRefusedAndNeverFollowed() async throws {
    let fleet = try await Fleet.shared()
    let root = temporaryDirectory()
    let victim = root + "/victim"
    try write("precious\n", to: victim)
    let directory = root + "/out"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let link = directory + "/" + fleet.address(8) + ".err"
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: victim)
    let result = await apssh(fleet.auth + fleet.targets([8, 9]) + ["-o", directory, "echo out; echo err >&2"])
    #expect(result.code == 2)
    #expect(
      result.stderr == "apssh: -o \(directory): \(link) is a symbolic link (never followed, nor replaced),"
        + " not the output file of a host; remove it, or choose another directory\n")
    #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
    #expect(!FileManager.default.fileExists(atPath: directory + "/" + fleet.address(9)), "nothing ran")

    // A mark directory that is a link to another directory: its files are neither removed nor
    // written.
    let outside = root + "/outside"
    try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
    try write("keep\n", to: outside + "/" + fleet.address(9))
    let marked = root + "/marked"
    try FileManager.default.createDirectory(atPath: marked, withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(atPath: marked + "/0ok", withDestinationPath: outside)
    let marks = await apssh(fleet.auth + fleet.targets([9]) + ["-o", marked, "-m", "true"])
    #expect(marks.code == 2)
    #expect(marks.stderr.contains("\(marked)/0ok is a symbolic link"), "\(marks.stderr)")
    #expect(try String(contentsOfFile: outside + "/" + fleet.address(9), encoding: .utf8) == "keep\n")
    #expect(try FileManager.default.contentsOfDirectory(atPath: outside) == [fleet.address(9)])
  }

  @Test func hostNamesCannotLeadOutOfTheDirectory() async throws {
    let fleet = try await Fleet.shared()
    let root = temporaryDirectory()
    let directory = root + "/out"
    let name = "escape-\(UUID().uuidString.prefix(8))"
    // A host that cannot exist (its name holds `/`): it fails to resolve, its files and mark stay
    // in the directory, under an escaped name.
    let result = await apssh(
      fleet.auth + fleet.targets([10]) + [
        "-t", "\(fleet.testbed.username)@../\(name)", "-c", "10", "-o", directory, "-m", "echo", "here",
      ])
    #expect(result.code == 3, "\(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: root + "/" + name))
    #expect(!FileManager.default.fileExists(atPath: root + "/1failed"))
    let escaped = "%2E.%2F" + name
    #expect(try String(contentsOfFile: "\(directory)/1failed/\(escaped)", encoding: .utf8) == "None\n")
    #expect(try String(contentsOfFile: "\(directory)/0ok/\(fleet.address(10))", encoding: .utf8) == "0\n")
    #expect(try String(contentsOfFile: "\(directory)/\(fleet.address(10))", encoding: .utf8) == "here\n")
    let entries = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    #expect(entries.allSatisfy { $0 == fleet.address(10) || $0 == escaped || $0 == "0ok" || $0 == "1failed" })
  }

  @Test func aReusedDirectoryHoldsThisRunsFilesAndMarksOnly() async throws {
    let fleet = try await Fleet.shared()
    let directory = temporaryDirectory() + "/out"
    let good = fleet.address(11)
    let bad = fleet.address(12)
    let first = "case \"$SSH_CONNECTION \" in *\" \(bad) \"*) echo broken >&2; exit 3;; *) echo fine;; esac"
    let one = await apssh(fleet.auth + fleet.targets([11, 12]) + ["-o", directory, "-m", first])
    #expect(one.code == 1, "\(one.stderr)")
    #expect(try String(contentsOfFile: "\(directory)/1failed/\(bad)", encoding: .utf8) == "3\n")
    #expect(try String(contentsOfFile: "\(directory)/\(bad).err", encoding: .utf8) == "broken\n")
    try write("mine\n", to: directory + "/notes.txt")
    try write("0\n", to: directory + "/0ok/old-host")

    // The same directory again, every host fine now: each is in 0ok only, its old stderr is gone,
    // unrelated files stay.
    let two = await apssh(fleet.auth + fleet.targets([11, 12]) + ["-o", directory, "-m", "echo again"])
    #expect(two.code == 0, "\(two.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/0ok").sorted() == [good, bad].sorted())
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/1failed").isEmpty)
    #expect(!FileManager.default.fileExists(atPath: "\(directory)/\(bad).err"))
    #expect(try String(contentsOfFile: "\(directory)/\(bad)", encoding: .utf8) == "again\n")
    #expect(try String(contentsOfFile: "\(directory)/notes.txt", encoding: .utf8) == "mine\n")
    // Retrying the failed hosts retries none.
    let retry = await apssh(fleet.auth + ["-t", directory + "/1failed", "-n"])
    #expect(retry.stdout.contains("0 hostnames selected"), "\(retry.stdout)")

    // Without --mark, the old marks go too (they would describe another run).
    let three = await apssh(fleet.auth + fleet.targets([11]) + ["-o", directory, "echo third"])
    #expect(three.code == 0)
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/0ok").isEmpty)
    #expect(try String(contentsOfFile: "\(directory)/\(good)", encoding: .utf8) == "third\n")
    #expect(try String(contentsOfFile: "\(directory)/\(bad)", encoding: .utf8) == "again\n", "not this run's")
  }

  @Test func hostsArePaddedOnTheRightAndUserIsTheNameAlone() async throws {
    let fleet = try await Fleet.shared()
    // Two hosts whose addresses differ in length (127.0.0.9 and 127.0.0.10 in a default fleet).
    let indices = Array(0..<fleet.testbed.hosts.count)
    let short = try #require(indices.first { fleet.address($0).count < fleet.address(indices.last!).count })
    let long = try #require(indices.last { fleet.address($0).count > fleet.address(short).count })
    let result = await apssh(fleet.auth + fleet.targets([short, long]) + ["echo", "hi"])
    #expect(result.code == 0, "\(result.stderr)")
    let lines = result.stdout.split(separator: "\n").map(String.init)
    let width = fleet.address(long).count
    #expect(
      lines.contains(fleet.address(short) + String(repeating: " ", count: width - fleet.address(short).count) + ":hi"))
    #expect(lines.contains(fleet.address(long) + ":hi"))
    let user = await apssh(fleet.auth + ["-f", "{user}@{fqdn} {line}\\n"] + fleet.targets([long]) + ["echo", "u"])
    #expect(user.stdout == "\(fleet.testbed.username)@\(fleet.address(long)) u\n", "\(user.stdout)")
    // A template that shows no line text works, with a warning.
    let bare = await apssh(fleet.auth + ["-f", "{host}{nl}"] + fleet.targets([long]) + ["echo", "x"])
    #expect(bare.code == 0)
    #expect(bare.stdout == fleet.address(long) + "\n")
    #expect(bare.stderr.contains("apssh: warning: -f '{host}{nl}' has neither {line} nor {linenl}"), "\(bare.stderr)")
  }
}

/// Output options that cannot work together, or would print nothing: usage errors (exit 2), said
/// before anything runs.
@Suite struct OutputOptionTests {
  @Test func emptyOrMistypedTemplatesAreRefused() async {
    let empty = await apssh(["-f", "", "-t", "h", "true"])
    #expect(empty.code == 2)
    #expect(
      empty.stderr.contains("-f: the template is empty, so every output line would be dropped"), "\(empty.stderr)")
    let unknown = await apssh(["-f", "{nosuch}:{line}", "-t", "h", "true"])
    #expect(unknown.code == 2)
    #expect(
      unknown.stderr.contains(
        "-f '{nosuch}:{line}': unknown placeholder {nosuch}; the placeholders are {linenl} {line} {nl} {host} {fqdn}"
          + " {user} {time}"), "\(unknown.stderr)")
    let two = await apssh(["--format", "{Host} {hots}", "-t", "h", "true"])
    #expect(two.stderr.contains("unknown placeholders {Host}, {hots}"), "\(two.stderr)")
  }

  @Test func conflictingOutputModesAreRefused() async {
    let cases: [([String], String)] = [
      (
        ["-r", "--json"], "-r and --json cannot be used together: --json puts each host's output into one JSON document"
      ),
      (["-o", "x", "-d"], "-o and -d cannot be used together: both choose the output directory"),
      (["-d", "--out-dir=x"], "-o and -d cannot be used together"),
      (["-tc", "-f", "{line}"], "-f and -tc cannot be used together: both choose how output lines are printed"),
      (["-r", "-tc"], "-r and -tc cannot be used together"),
      (
        ["-o", "x", "-r"], "-r and -o cannot be used together: -o writes each host's output as it is into its own file"
      ),
      (["-f", "{line}", "-d"], "-f and -d cannot be used together"),
      (["--json", "-tc"], "-tc and --json cannot be used together"),
    ]
    for (options, message) in cases {
      let result = await apssh(options + ["-t", "h", "true"])
      #expect(result.code == 2, "\(options)")
      #expect(result.stderr.contains(message), "\(options): \(result.stderr)")
    }
    // The copies have no output formats at all (PushPullTests.copiesHaveNoOutputOptions).
    let copy = await appush(["--raw-format", "-t", "h", "a", "@:"])
    #expect(copy.code == 2)
    #expect(copy.stderr.contains("not of appush"), "\(copy.stderr)")
    // Files and the JSON document go together: the files hold the output, the document the rest.
    let both = await apssh(["--json", "-o", "x", "-t", "h", "-L"])
    #expect(both.code == 0, "\(both.stderr)")
  }
}
