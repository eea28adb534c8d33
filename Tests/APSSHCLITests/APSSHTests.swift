import APSSHCLI
import Foundation
import Testing

/// apssh in-process against the shared testbed: options, formats, targets, exit codes.
@Suite struct APSSHTests {
  @Test func runsOnSeveralHostsWithHostPrefix() async throws {
    let fleet = try await Fleet.shared()
    let result = await apssh(fleet.auth + fleet.targets([0, 1, 2]) + ["echo", "hello"])
    #expect(result.code == 0, "\(result.stderr)")
    for index in 0..<3 {
      #expect(result.stdout.contains("\(fleet.address(index)):hello"))
    }
    #expect(result.stdout.split(separator: "\n").count == 3)
  }

  @Test func leadingDoubleDashIsDropped() async throws {
    let fleet = try await Fleet.shared()
    let result = await apssh(fleet.auth + ["-r"] + fleet.targets([3]) + ["--", "echo", "dashed"])
    #expect(result.code == 0, "\(result.stderr)")
    #expect(result.stdout == "dashed\n")
  }

  @Test func nonZeroStatusExitsOne() async throws {
    let fleet = try await Fleet.shared()
    let result = await apssh(fleet.auth + ["--raw-format"] + fleet.targets([0, 1]) + ["echo out; exit 3"])
    #expect(result.code == 1)
    #expect(result.stdout == "out\nout\n")
  }

  @Test func timeColonAndCustomFormats() async throws {
    let fleet = try await Fleet.shared()
    let colon = await apssh(fleet.auth + ["-tc"] + fleet.targets([2]) + ["echo", "tc"])
    #expect(colon.code == 0)
    #expect(colon.stdout.hasSuffix(":\(fleet.address(2)):tc\n"), "\(colon.stdout)")
    #expect(colon.stdout.filter { $0 == ":" }.count == 2)
    let custom = await apssh(fleet.auth + ["-f", "[{fqdn}|{user}] {line}\\n"] + fleet.targets([2]) + ["echo", "f"])
    #expect(custom.stdout == "[\(fleet.address(2))|\(fleet.testbed.username)] f\n", "\(custom.stdout)")
  }

  @Test func stderrStaysOnStderr() async throws {
    let fleet = try await Fleet.shared()
    let result = await apssh(fleet.auth + fleet.targets([4]) + ["echo", "oops", ">&2"])
    #expect(result.code == 0)
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.contains("\(fleet.address(4)):oops"))
  }

  @Test func unreachableHostAmongGoodOnes() async throws {
    let fleet = try await Fleet.shared()
    let bad = "\(fleet.testbed.username)@127.0.0.250:1"
    let result = await apssh(fleet.auth + ["-t", "\(fleet.target(5)) \(bad)", "-c", "30", "echo", "alive"])
    #expect(result.code == 3, "some host not reached")
    #expect(result.stdout.split(separator: "\n").contains { $0.contains(fleet.address(5)) && $0.hasSuffix(":alive") })
    // Said once, at the end, with the host and the reason.
    let lines = result.stderr.split(separator: "\n")
    #expect(
      lines == ["127.0.0.250: unreachable: connection refused on port 1; is sshd running there?"], "\(result.stderr)")
  }

  @Test func retriesMakeSeveralAttempts() async throws {
    let fleet = try await Fleet.shared()
    let start = ContinuousClock.now
    let result = await apssh(
      fleet.auth + ["-t", "\(fleet.testbed.username)@127.0.0.251:1", "--retries", "2", "-c", "2", "true"])
    #expect(result.code == 3)
    #expect(ContinuousClock.now - start >= .milliseconds(900))
    let bad = await apssh(fleet.auth + ["-t", "x", "--retries", "0", "true"])
    #expect(bad.code == 2)
  }

  @Test func commandTimeout() async throws {
    let fleet = try await Fleet.shared()
    let start = ContinuousClock.now
    let result = await apssh(fleet.auth + fleet.targets([6]) + ["--command-timeout", "1s", "sleep", "120"])
    #expect(result.code == 1)
    #expect(result.stderr.contains("timed out"), "\(result.stderr)")
    // Stopped well before the command would have ended on its own (generous: the machine is loaded).
    #expect(ContinuousClock.now - start < .seconds(60))
    let bad = await apssh(fleet.auth + fleet.targets([6]) + ["--command-timeout", "soon", "true"])
    #expect(bad.code == 2)
  }

  @Test func windowLimitsConcurrency() async throws {
    let fleet = try await Fleet.shared()
    let start = ContinuousClock.now
    let result = await apssh(fleet.auth + fleet.targets([7, 8, 9, 10]) + ["-w", "2", "sleep", "0.4"])
    #expect(result.code == 0, "\(result.stderr)")
    #expect(ContinuousClock.now - start >= .milliseconds(800))
  }

  @Test func outDirWithMarks() async throws {
    let fleet = try await Fleet.shared()
    let directory = temporaryDirectory() + "/out"
    let result = await apssh(
      fleet.auth + fleet.targets([0, 1]) + [
        "-t", "\(fleet.testbed.username)@127.0.0.252:1", "-c", "30", "-o", directory, "-m",
        "echo", "file; echo problem >&2",
      ])
    #expect(result.code == 3)
    #expect(result.stdout == directory + "\n")
    let out = try String(contentsOfFile: directory + "/" + fleet.address(0), encoding: .utf8)
    #expect(out == "file\n")
    let err = try String(contentsOfFile: directory + "/" + fleet.address(1) + ".err", encoding: .utf8)
    #expect(err == "problem\n")
    #expect(try String(contentsOfFile: "\(directory)/0ok/\(fleet.address(0))", encoding: .utf8) == "0\n")
    #expect(try String(contentsOfFile: "\(directory)/1failed/127.0.0.252", encoding: .utf8) == "None\n")
    // The 0ok directory is a target list for the next pass.
    let next = await apssh(fleet.auth + ["-t", directory + "/0ok", "-l", "\(fleet.testbed.username)", "-n"])
    #expect(next.stdout.contains("\(fleet.testbed.username)@\(fleet.address(0))"))
  }

  @Test func jsonReport() async throws {
    let fleet = try await Fleet.shared()
    let result = await apssh(
      fleet.auth + [
        "--json", "-c", "30", "-t", "\(fleet.target(12)),\(fleet.target(13)),\(fleet.testbed.username)@127.0.0.253:1",
        "echo hi from $(whoami); echo warn >&2; exit 2",
      ])
    #expect(result.code == 3)
    let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    #expect(report["tool"] as? String == "apssh")
    #expect(report["exitCode"] as? Int == 3)
    let hosts = try #require(report["hosts"] as? [[String: Any]])
    #expect(hosts.count == 3)
    #expect(hosts[0]["host"] as? String == fleet.address(12))
    #expect(hosts[0]["user"] as? String == "\(fleet.testbed.username)")
    #expect(hosts[0]["port"] as? Int == Int(fleet.testbed.port))
    #expect(hosts[0]["status"] as? String == "failed")
    #expect(hosts[0]["exitStatus"] as? Int == 2)
    #expect(hosts[0]["stdout"] as? String == "hi from \(fleet.testbed.username)\n")
    #expect(hosts[0]["stderr"] as? String == "warn\n")
    let dates = ISO8601DateFormatter()
    dates.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    #expect(dates.date(from: hosts[0]["start"] as? String ?? "") != nil)
    #expect(dates.date(from: hosts[0]["end"] as? String ?? "") != nil)
    #expect(hosts[2]["status"] as? String == "error")
    #expect((hosts[2]["error"] as? String)?.contains("127.0.0.253") == true)
  }

  @Test func progressLineOnTerminalOnly() async throws {
    let fleet = try await Fleet.shared()
    let shown = await apssh(fleet.auth + fleet.targets([14, 15]) + ["echo", "p"], terminal: true)
    #expect(shown.code == 0)
    #expect(shown.stderr.contains("\r\u{1B}[K"))
    #expect(shown.stderr.contains("2/2 done"), "\(shown.stderr.debugDescription)")
    #expect(shown.stdout.contains(":p\n"))
    #expect(!shown.stdout.contains("\u{1B}"))
    let hidden = await apssh(fleet.auth + fleet.targets([14]) + ["--no-progress", "echo", "p"], terminal: true)
    #expect(!hidden.stderr.contains("\u{1B}"))
    let notTTY = await apssh(fleet.auth + fleet.targets([14]) + ["echo", "p"])
    #expect(!notTTY.stderr.contains("\u{1B}"))
    // A narrow terminal: every drawing fits in its width (less the last column), never wraps.
    let narrow = await apssh(fleet.auth + fleet.targets([14, 15]) + ["echo", "p"], terminal: true, columns: 20)
    #expect(narrow.code == 0)
    let drawings = narrow.stderr.components(separatedBy: "\r\u{1B}[K").filter { !$0.isEmpty }
    #expect(drawings.contains("apssh: 2/2 done, 0…"), "\(drawings)")
    #expect(drawings.allSatisfy { $0.count <= 19 }, "\(drawings)")
    #expect(narrow.stdout.split(separator: "\n").count == 2)
  }

  @Test func scriptMode() async throws {
    let fleet = try await Fleet.shared()
    let directory = temporaryDirectory()
    let script = directory + "/greet.sh"
    try write("#!/bin/sh\necho \"script $1 $(cat \"$(dirname \"$0\")/data.txt\")\"\n", to: script)
    try write("included", to: directory + "/data.txt")
    let result = await apssh(
      fleet.auth + ["-r", "-s", "-i", directory + "/data.txt"] + fleet.targets([3]) + [script, "arg"])
    #expect(result.code == 0, "\(result.stderr)")
    #expect(result.stdout == "script arg included\n")
    let body = await apssh(fleet.auth + ["-r", "--script-body", "echo body \"$1\""] + fleet.targets([3]) + ["x"])
    #expect(body.code == 0, "\(body.stderr)")
    #expect(body.stdout == "body x\n")
  }

  @Test func verboseAndDebug() async throws {
    let fleet = try await Fleet.shared()
    let result = await apssh(fleet.auth + ["-v", "-D"] + fleet.targets([4]) + ["true"])
    #expect(result.code == 0)
    #expect(result.stderr.contains("apssh is working on 1 nodes"))
    #expect(result.stderr.contains("Connecting (direct)"))
    #expect(result.stderr.contains("using target \(fleet.testbed.username)@\(fleet.address(4))"))
    #expect(result.stderr.contains("DEBUG: PROXY \(fleet.address(4)) -> 0"))
  }

  @Test func hostKeyPolicies() async throws {
    let fleet = try await Fleet.shared()
    let empty = temporaryDirectory() + "/known_hosts"
    try write("", to: empty)
    let base = ["-k", fleet.testbed.userKeyPath, "--known-hosts", empty] + fleet.targets([5])
    let strict = await apssh(base + ["--strict-host-keys", "true"])
    #expect(strict.code == 3)
    #expect(strict.stderr.contains("cannot log in: unknown host key"), "\(strict.stderr)")
    #expect(strict.stderr.contains(fleet.address(5)))
    let off = await apssh(base + ["--no-host-key-check", "true"])
    #expect(off.code == 0, "\(off.stderr)")
    let both = await apssh(base + ["--no-host-key-check", "--strict-host-keys", "true"])
    #expect(both.code == 2)
  }

  @Test func keysAndOkIfNoKey() async throws {
    let fleet = try await Fleet.shared()
    let missing = await apssh(
      ["-k", "/nonexistent/key", "--known-hosts", fleet.testbed.knownHostsPath] + fleet.targets([6]) + ["true"])
    #expect(missing.code == 2)
    #expect(missing.stderr.contains("-k /nonexistent/key: no such file"), "\(missing.stderr)")
    let proceed = await apssh(
      ["-K", "-k", "/nonexistent/key", "--known-hosts", fleet.testbed.knownHostsPath, "-c", "5"] + fleet.targets([6])
        + ["true"])
    #expect(proceed.code == 3)
    #expect(proceed.stderr.contains(fleet.address(6)))
  }
}
