import APSSHCLI
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `apssh -s SCRIPT`, `--script-body TEXT`, `-i`, and what is left on the hosts afterwards (every
/// host of the shared testbed has the same home directory: names are made unique per test).
@Suite struct ScriptTests {
  /// A target that refuses connections: a run that reached the connecting stage would exit 3.
  static let refusing = ["-t", "root@127.0.0.1:1"]

  @Test func missingScriptIsAnErrorNotACommand() async throws {
    let fleet = try await Fleet.shared()
    let marker = NSTemporaryDirectory() + "apssh-typo-\(UUID().uuidString.prefix(8))"
    // A typo used to run the words as a script body on every host.
    let typo = await apssh(fleet.auth + fleet.targets([9]) + ["-s", "touch \(marker)"])
    #expect(typo.code == 2, "\(typo.stderr)")
    #expect(
      typo.stderr
        == "apssh: -s touch \(marker): no such local script (to run a script given as text, use --script-body TEXT)\n")
    #expect(!FileManager.default.fileExists(atPath: marker), "nothing ran on the host")
    // Before connecting; a directory or an unreadable path is no script either.
    let missing = await apssh(fleet.auth + Self.refusing + ["-s", "/no/such/script.sh", "arg"])
    #expect(missing.code == 2)
    #expect(missing.stderr.contains("-s /no/such/script.sh: no such local script"))
    let directory = temporaryDirectory()
    let folder = await apssh(fleet.auth + Self.refusing + ["-s", directory])
    #expect(folder.code == 2)
    #expect(folder.stderr.contains("-s \(directory): not a regular file (a local script is expected)"))
  }

  @Test func scriptBodyIsExplicit() async throws {
    let fleet = try await Fleet.shared()
    let body = await apssh(
      fleet.auth + fleet.targets([9]) + ["-r", "--script-body", "#!/bin/sh\necho \"body $# $1 $2\"", "a", "b c"])
    #expect(body.code == 0, "\(body.stderr)")
    #expect(body.stdout == "body 3 a b\n")
    let noArgs = await apssh(fleet.auth + fleet.targets([9]) + ["-r", "--script-body", "echo alone"])
    #expect(noArgs.code == 0, "\(noArgs.stderr)")
    #expect(noArgs.stdout == "alone\n")
    let both = await apssh(fleet.auth + Self.refusing + ["-s", "--script-body", "echo x", "script.sh"])
    #expect(both.code == 2)
    #expect(both.stderr.contains("-s (a local script) and --script-body (a script text) exclude each other"))
    let scenario = await apssh(fleet.auth + ["-S", "x.yaml", "--script-body", "echo x"])
    #expect(scenario.code == 2)
    #expect(scenario.stderr.contains("go with a command, not with a scenario (-S)"))
  }

  @Test func includesNeedAScript() async throws {
    let fleet = try await Fleet.shared()
    let directory = temporaryDirectory()
    try write("data", to: directory + "/data.txt")
    let alone = await apssh(fleet.auth + Self.refusing + ["-i", directory + "/data.txt", "cat", "data.txt"])
    #expect(alone.code == 2)
    #expect(
      alone.stderr.contains(
        "-i \(directory)/data.txt: include files are pushed next to a script: they go with -s SCRIPT or --script-body TEXT"
      ), "\(alone.stderr)")
    let keep = await apssh(fleet.auth + Self.refusing + ["--keep-scripts", "true"])
    #expect(keep.code == 2)
    #expect(keep.stderr.contains("--keep-scripts goes with -s SCRIPT or --script-body TEXT"))
    let missing = await apssh(
      fleet.auth + Self.refusing + ["-i", directory + "/typo.txt", "--script-body", "cat typo.txt"])
    #expect(missing.code == 2)
    #expect(missing.stderr.contains("-i \(directory)/typo.txt: no such file to include"), "\(missing.stderr)")
  }

  @Test func scriptsArePrivateAndRemovedAfterTheRun() async throws {
    let fleet = try await Fleet.shared()
    let directory = temporaryDirectory()
    let name = "private-\(UUID().uuidString.prefix(8)).sh"
    let script = directory + "/" + name
    try write("#!/bin/sh\nstat -c '%a' \"$0\" \"$(dirname \"$0\")\" ~/.apssh-remote\n", to: script)
    chmod(script, 0o644)
    // A directory left readable by an older version is made private.
    _ = await apssh(fleet.auth + fleet.targets([10]) + ["mkdir -p .apssh-remote && chmod 755 .apssh-remote"])
    let plain = await apssh(fleet.auth + fleet.targets([10]) + ["-r", "-s", script])
    #expect(plain.code == 0, "\(plain.stderr)")
    #expect(plain.stdout == "700\n700\n700\n")
    try write("inc", to: directory + "/inc.txt")
    let included = await apssh(fleet.auth + fleet.targets([10]) + ["-r", "-s", "-i", directory + "/inc.txt", script])
    #expect(included.code == 0, "\(included.stderr)")
    #expect(included.stdout == "700\n700\n700\n", "the script, its .d directory, ~/.apssh-remote")
    // A failing script is removed too.
    let failing = await apssh(fleet.auth + fleet.targets([10]) + ["--script-body", "exit 3"])
    #expect(failing.code == 1)
    let left = await apssh(fleet.auth + fleet.targets([10]) + ["-r", "ls -a ~/.apssh-remote"])
    #expect(!left.stdout.contains(name), "\(left.stdout)")
    // Unless asked to keep it.
    let kept = await apssh(fleet.auth + fleet.targets([10]) + ["--keep-scripts", "-s", script])
    #expect(kept.code == 0)
    let after = await apssh(fleet.auth + fleet.targets([10]) + ["-r", "ls ~/.apssh-remote | grep -c '^\(name)-'"])
    #expect(after.stdout == "1\n", "\(after.stdout)")
    _ = await apssh(fleet.auth + fleet.targets([10]) + ["rm -f ~/.apssh-remote/\(name)-*"])
  }

  @Test func concurrentRunsOfOneScriptDoNotRemoveEachOther() async throws {
    let fleet = try await Fleet.shared()
    let directory = temporaryDirectory()
    let name = "twice-\(UUID().uuidString.prefix(8)).sh"
    let script = directory + "/" + name
    // Both runs wait for each other; then "a" ends at once and "b" waits until the script of "a"
    // is gone (only one copy left) before checking that its own is still there.
    try write(
      """
      #!/bin/sh
      touch ~/.apssh-remote/\(name).started-$1
      i=0
      until [ "$(ls ~/.apssh-remote/ | grep -c '^\(name).started-')" = 2 ]; do
        i=$((i+1)); [ $i -gt 600 ] && { echo "no partner" >&2; exit 4; }; sleep 0.1
      done
      [ "$1" = a ] && { echo a done; exit 0; }
      i=0
      until [ "$(ls ~/.apssh-remote/ | grep -c '^\(name)-')" = 1 ]; do
        i=$((i+1)); [ $i -gt 600 ] && { echo "a was not removed" >&2; exit 5; }; sleep 0.1
      done
      test -f "$0" && echo b still there

      """, to: script)
    async let first = apssh(fleet.auth + fleet.targets([11]) + ["-r", "-s", script, "a"])
    async let second = apssh(fleet.auth + fleet.targets([11]) + ["-r", "-s", script, "b"])
    let (a, b) = await (first, second)
    #expect(a.code == 0, "\(a.stderr)")
    #expect(a.stdout == "a done\n")
    #expect(b.code == 0, "\(b.stderr)")
    #expect(b.stdout == "b still there\n")
    _ = await apssh(fleet.auth + fleet.targets([11]) + ["rm -f ~/.apssh-remote/\(name)*"])
  }

  @Test func interruptedAndTimedOutScriptsAreRemovedToo() async throws {
    let fleet = try await Fleet.shared()
    let directory = temporaryDirectory()
    let name = "stopped-\(UUID().uuidString.prefix(8)).sh"
    let script = directory + "/" + name
    let sleep = "sleep 47.\(Int.random(in: 100_000...999_999))"
    try write("#!/bin/sh\n\(sleep)\n", to: script)
    func left() async -> String {
      await apssh(fleet.auth + fleet.targets([12]) + ["-r", "ls ~/.apssh-remote | grep -c '^\(name)-' || true"]).stdout
    }
    let child = try ChildProcess("apssh", fleet.auth + fleet.targets([12]) + ["-s", script])
    let finished = try child.start()
    #expect(try await Processes.eventually(within: .seconds(60)) { Processes.count(sleep) == 1 }, "the script runs")
    #expect(await left() == "1\n", "installed while it runs")
    kill(child.process.processIdentifier, SIGINT)
    let interrupted = await finished.value
    #expect(interrupted.code == 130, "\(interrupted.stderr)")
    #expect(await left() == "0\n", "removed after Ctrl-C")
    let timedOut = await apssh(fleet.auth + fleet.targets([12]) + ["--command-timeout", "1s", "-s", script])
    #expect(timedOut.code == 1, "\(timedOut.stderr)")
    #expect(timedOut.stderr.contains("timed out"), "\(timedOut.stderr)")
    #expect(await left() == "0\n", "removed after the time limit")
  }
}
