import Foundation
import SshJobs
import Testbed
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Behaviour a user can rely on, against real sshd: signals, stdin, partial lines, write errors,
/// failures named, exit codes, connections bounded, hosts told apart.
@Suite struct BehaviourTests {
  /// A unique remote command that runs until stopped.
  static func longSleep() -> String { "sleep 47.\(Int.random(in: 100_000...999_999))" }

  /// A scenario running `command` on every host of `testbed`'s group.
  static func scenario(_ testbed: Testbed, command: String) throws -> String {
    let path = temporaryDirectory() + "/long.yaml"
    try write(
      "jobs:\n  - id: long\n    node: \"@testbed\"\n    commands:\n      - type: Run\n        command: \(command)\n",
      to: path)
    return path
  }

  @Test(arguments: [(SIGINT, false), (SIGTERM, false), (SIGHUP, false), (SIGINT, true), (SIGTERM, true)])
  func signalsStopRemoteCommandsAndCloseConnections(signal: Int32, scenario: Bool) async throws {
    let testbed = try await Testbed.start(hosts: 2)
    defer { testbed.stopSynchronously() }
    let sleep = Self.longSleep()
    let auth = ["-k", testbed.userKeyPath, "--known-hosts", testbed.knownHostsPath]
    let arguments =
      scenario
      ? auth + ["-I", testbed.inventoryPath, "-S", try Self.scenario(testbed, command: sleep)]
      : auth + ["-t", testbed.targets.joined(separator: ","), sleep]
    let child = try ChildProcess("apssh", arguments)
    let finished = try child.start()
    #expect(try await Processes.eventually { Processes.count(sleep) == 2 }, "both remote commands run")
    kill(child.process.processIdentifier, signal)
    let result = await finished.value
    #expect(result.code == 128 + signal, "\(result.stderr)")
    #expect(result.stderr.contains("remote commands stopped, connections closed"), "\(result.stderr)")
    // Nothing left running remotely, nothing left connected.
    #expect(try await Processes.eventually { Processes.count(sleep) == 0 })
    #expect(try await Processes.eventually { ConnectionCounter.establishedConnections(localPort: testbed.port) == 0 })
  }

  @Test func aClosedStdoutStopsTheRun() async throws {
    let fleet = try await Fleet.shared()
    let marker = "marker\(Int.random(in: 100_000...999_999))"
    // `| head -1`: the remote loops go on printing after head has gone.
    let loop = "for i in $(seq 1 400); do echo $i; sleep 0.1; done # \(marker)"
    let apssh = ([productsDirectory + "/apssh"] + fleet.auth + fleet.targets([0, 1]) + [loop]).map(ShellQuoting.quote)
    let script = apssh.joined(separator: " ") + " | head -1; echo \"status=${PIPESTATUS[0]}\" >&2"
    let result = try await Shell.run(["/bin/bash", "-c", script])
    #expect(result.stderr.contains("status=141"), "\(result.stderr)")
    #expect(!result.stderr.contains("interrupted"), "no summary for a closed pipe")
    #expect(result.stdout.split(separator: "\n").count == 1)
    #expect(
      try await Processes.eventually { Processes.count(containing: marker) == 0 }, "the remote loops were stopped")
  }

  @Test func aCriticalFailureInAScenarioStopsTheOthers() async throws {
    let fleet = try await Fleet.shared()
    let sleep = Self.longSleep()
    let path = temporaryDirectory() + "/critical.yaml"
    try write(
      """
      jobs:
        - id: sleepers
          node: "127.0.0.[2-5]"
          commands:
            - type: Run
              command: \(sleep)
        - id: boom
          node: \(fleet.address(6))
          commands:
            - type: Run
              command: sleep 0.5; exit 3
      """, to: path)
    let result = await apssh(fleet.auth + ["-I", fleet.testbed.inventoryPath, "-S", path])
    #expect(result.code == 1, "\(result.stderr)")
    #expect(result.stderr.contains("boom@\(fleet.address(6)): exit 3"), "\(result.stderr)")
    #expect(try await Processes.eventually { Processes.count(sleep) == 0 }, "4 sleeps left behind")
  }

  @Test func aCommandReadingStdinGetsEndOfFile() async throws {
    let fleet = try await Fleet.shared()
    let result = await apssh(fleet.auth + fleet.targets([1, 2]) + ["cat; echo read all"])
    #expect(result.code == 0, "\(result.stderr)")
    #expect(result.stdout.split(separator: "\n").count == 2)
  }

  @Test func stdinIsSentToEveryHostWhenAsked() async throws {
    let fleet = try await Fleet.shared()
    let directory = temporaryDirectory()
    // From a file (read where it is), and from a pipe (copied once as it comes).
    let file = directory + "/input"
    var content = Data()
    for line in 0..<150_000 { content.append(contentsOf: Array("line \(line) of the input\n".utf8)) }
    try content.write(to: URL(fileURLWithPath: file))
    let local = try await Shell.run(["/usr/bin/cksum", file]).stdout.split(separator: " ").prefix(2).joined(
      separator: " ")
    let fromFile = try await ChildProcess(
      "apssh", fleet.auth + fleet.targets([2, 3, 4]) + ["--stdin", "-r", "cksum"], stdin: file
    ).start().value
    #expect(fromFile.code == 0, "\(fromFile.stderr)")
    #expect(
      fromFile.stdout.split(separator: "\n").map { $0.split(separator: " ").prefix(2).joined(separator: " ") } == [
        local, local, local,
      ])
    let apssh = ([productsDirectory + "/apssh"] + fleet.auth + fleet.targets([2, 3]) + ["--stdin", "-r", "cksum"]).map(
      ShellQuoting.quote)
    let piped = try await Shell.run(["/bin/bash", "-c", "cat \(file) | " + apssh.joined(separator: " ")])
    #expect(piped.code == 0, "\(piped.stderr)")
    #expect(
      piped.stdout.split(separator: "\n").map { $0.split(separator: " ").prefix(2).joined(separator: " ") } == [
        local, local,
      ])
    // Without --stdin, the local input is not read.
    let ignored = try await ChildProcess("apssh", fleet.auth + fleet.targets([2]) + ["-r", "wc -c"], stdin: file)
      .start().value
    #expect(ignored.stdout == "0\n")
  }

  @Test func commandBytesThatAreNotUTF8AreSentAsTheyAre() async throws {
    let fleet = try await Fleet.shared()
    let apssh = ([productsDirectory + "/apssh"] + fleet.auth + fleet.targets([6]) + ["-r"]).map(ShellQuoting.quote)
    // The command holds the bytes E9 and FF (Latin-1 é, and an invalid byte): od shows what came.
    let result = try await Shell.run([
      "/bin/bash", "-c", apssh.joined(separator: " ") + " $'printf %s caf\\xe9-\\xff | od -An -tx1'",
    ])
    #expect(result.code == 0, "\(result.stderr)")
    #expect(
      result.stdout.split(separator: " ").map(String.init).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        == ["63", "61", "66", "e9", "2d", "ff"], "\(result.stdout)")
  }

  @Test func aLastLineWithoutNewlineIsALineOfItsOwn() async throws {
    let fleet = try await Fleet.shared()
    let result = await apssh(fleet.auth + fleet.targets([3, 4, 5]) + ["printf abc; printf err >&2"])
    #expect(result.code == 0)
    #expect(Set(result.stdout.split(separator: "\n")) == Set([3, 4, 5].map { "\(fleet.address($0)):abc" }[...]))
    #expect(result.stdout.hasSuffix("\n"))
    #expect(Set(result.stderr.split(separator: "\n")) == Set([3, 4, 5].map { "\(fleet.address($0)):err" }[...]))
  }

  @Test func jsonKeepsBoundedOutputAndSaysSo() async throws {
    let fleet = try await Fleet.shared()
    let result = await apssh(
      fleet.auth + fleet.targets([7]) + [
        "--json", "--json-max-output", "1K", "head -c 5000 /dev/zero | tr '\\0' x; printf '\\377\\376' >&2",
      ])
    #expect(result.code == 0, "\(result.stderr)")
    let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    let host = try #require((report["hosts"] as? [[String: Any]])?.first)
    #expect((host["stdout"] as? String)?.count == 1024)
    #expect(host["stdoutTruncated"] as? Bool == true)
    #expect(host["stdoutBytes"] as? Int == 5000)
    #expect(host["stderr"] == nil, "not UTF-8")
    #expect(host["stderrBase64"] as? String == Data([0xFF, 0xFE]).base64EncodedString())
    let bad = await apssh(fleet.auth + fleet.targets([7]) + ["--json", "--json-max-output", "lots", "true"])
    #expect(bad.code == 2)
  }

  @Test func outputThatCannotBeWrittenIsAnError() async throws {
    let fleet = try await Fleet.shared()
    // stdout on a full disk.
    let full = try await ChildProcess("apssh", fleet.auth + fleet.targets([8]) + ["echo", "lost"], stdout: "/dev/full")
      .start().value
    #expect(full.code == 1, "\(full.stderr)")
    #expect(full.stderr.contains("cannot write to stdout: No space left on device"), "\(full.stderr)")
    // -o naming a file: said before anything runs.
    let file = temporaryDirectory() + "/file"
    try write("", to: file)
    let notDirectory = await apssh(fleet.auth + fleet.targets([8]) + ["-o", file, "echo", "x"])
    #expect(notDirectory.code == 2)
    #expect(notDirectory.stderr.split(separator: "\n") == ["apssh: -o \(file): not a directory (a file is in the way)"])
    // -o where a host's file is a link (here to a full device): never followed, said before
    // anything runs (the files of a run that cannot be written are told once each: see
    // FormatterTests).
    let directory = temporaryDirectory() + "/out"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(
      atPath: directory + "/" + fleet.address(8), withDestinationPath: "/dev/full")
    let linked = await apssh(fleet.auth + fleet.targets([8, 9]) + ["-o", directory, "echo one; echo two"])
    #expect(linked.code == 2)
    #expect(
      linked.stderr.components(separatedBy: "\(directory)/\(fleet.address(8)) is a symbolic link").count == 2,
      "\(linked.stderr)")
    #expect(!FileManager.default.fileExists(atPath: directory + "/" + fleet.address(9)))
  }

  @Test func closedStandardDescriptorsAreNotReused() async throws {
    let fleet = try await Fleet.shared()
    let apssh = ([productsDirectory + "/apssh"] + fleet.auth + fleet.targets([10]) + ["-v", "echo fine"]).map(
      ShellQuoting.quote)
    // stderr and stdin closed: the run still works, its exit code still tells.
    let result = try await Shell.run(
      ["/bin/bash", "-c", apssh.joined(separator: " ") + " 2>&- <&-; echo status=$? >&3"], extraDescriptor: true)
    #expect(result.stdout.contains("\(fleet.address(10)):fine"), "\(result.stdout)")
    #expect(result.extra == "status=0\n")
  }

  @Test func failuresAreNamedOnceFoldedAndGraded() async throws {
    let fleet = try await Fleet.shared()
    let status = "case \"$SSH_CONNECTION \" in *\" \(fleet.address(12)) \"*) exit 7;; *) exit 3;; esac"
    let result = await apssh(fleet.auth + fleet.targets([11, 12, 13, 14]) + [status])
    #expect(result.code == 1)
    let lines = result.stderr.split(separator: "\n").map(String.init)
    let others = [11, 13, 14].map { fleet.address($0) }
    #expect(lines.contains("\(fleet.address(12)): exit 7"), "\(lines)")
    #expect(lines.contains { $0.hasSuffix(" (3): exit 3") && $0.contains("[") }, "folded: \(lines)")
    #expect(lines.count == 2, "\(lines)")
    #expect(lines.contains { line in others.allSatisfy { line.contains($0.split(separator: ".").last!) } })
    let maxRC = await apssh(fleet.auth + fleet.targets([11, 12]) + ["--max-rc", status])
    #expect(maxRC.code == 7)
    let killed = await apssh(fleet.auth + fleet.targets([11]) + ["--max-rc", "kill -TERM $$"])
    #expect(killed.code == 143)
    #expect(killed.stderr.contains("killed by SIGTERM"))
    let unreachable = await apssh(
      fleet.auth + fleet.targets([11]) + ["-t", "\(fleet.testbed.username)@127.0.0.254:1", "--max-rc", "true"])
    #expect(unreachable.code == 255)
  }

  @Test func failFastStopsEverythingAtTheFirstFailure() async throws {
    let fleet = try await Fleet.shared()
    let sleep = Self.longSleep()
    let command = "case \"$SSH_CONNECTION \" in *\" \(fleet.address(15)) \"*) sleep 0.5; exit 4;; *) \(sleep);; esac"
    let result = await apssh(fleet.auth + fleet.targets([13, 14, 15]) + ["--fail-fast", command])
    #expect(result.code == 1, "\(result.stderr)")
    #expect(result.stderr.contains("\(fleet.address(15)): exit 4"), "\(result.stderr)")
    #expect(try await Processes.eventually { Processes.count(sleep) == 0 })
  }

  @Test func aWindowBoundsTheOpenConnections() async throws {
    let testbed = try await Testbed.start(hosts: 6)
    defer { testbed.stopSynchronously() }
    let most = Most()
    let sampler = Task {
      while !Task.isCancelled {
        most.record(ConnectionCounter.establishedConnections(localPort: testbed.port))
        try? await Task.sleep(for: .milliseconds(20))
      }
    }
    let result = await apssh(
      [
        "-k", testbed.userKeyPath, "--known-hosts", testbed.knownHostsPath, "-t",
        testbed.targets.joined(separator: ","),
        "-w", "2", "sleep 0.4",
      ])
    sampler.cancel()
    #expect(result.code == 0, "\(result.stderr)")
    // Connections close as hosts finish (on the server side a closing one may linger an instant).
    #expect(most.value >= 1 && most.value <= 3, "open at once: \(most.value) (6 before, with -w 2)")
  }

  @Test func hostsSharingAnAddressAreToldApart() async throws {
    let fleet = try await Fleet.shared()
    let address = fleet.address(0)
    let port = fleet.testbed.port
    let directory = temporaryDirectory() + "/out"
    // The same address on two ports: the testbed's, and one that refuses.
    let result = await apssh(
      fleet.auth + [
        "-t", "\(fleet.testbed.username)@\(address):\(port),\(fleet.testbed.username)@\(address):1", "-o", directory,
        "echo", "here",
      ])
    #expect(result.code == 3)
    #expect(try String(contentsOfFile: "\(directory)/\(address):\(port)", encoding: .utf8) == "here\n")
    #expect(result.stderr.contains("\(address):1: unreachable"), "\(result.stderr)")
  }
}

/// The largest value recorded by several tasks.
final class Most: @unchecked Sendable {
  private let lock = NSLock()
  private var stored = 0
  func record(_ value: Int) { lock.withLock { stored = max(stored, value) } }
  var value: Int { lock.withLock { stored } }
}

/// Runs a shell script, its output in files; optionally a descriptor 3 of its own.
enum Shell {
  struct Result {
    var code: Int32
    var stdout: String
    var stderr: String
    var extra: String
  }

  static func run(_ arguments: [String], extraDescriptor: Bool = false) async throws -> Result {
    let directory = temporaryDirectory("shell")
    let paths = ["out", "err", "extra"].map { directory + "/" + $0 }
    for path in paths { _ = FileManager.default.createFile(atPath: path, contents: nil) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: arguments[0])
    process.arguments = Array(arguments.dropFirst())
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: paths[0]))
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: paths[1]))
    if extraDescriptor {
      // The script writes its own findings on descriptor 3: reopen it on a file for the child.
      let script = process.arguments!.last!
      process.arguments![process.arguments!.count - 1] = "exec 3>\(paths[2]); " + script
    }
    let ended = AsyncStream<Int32> { continuation in
      process.terminationHandler = {
        continuation.yield($0.terminationStatus); continuation.finish()
      }
    }
    try process.run()
    var code: Int32 = -1
    for await status in ended { code = status }
    let read = { (path: String) in (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
    return Result(code: code, stdout: read(paths[0]), stderr: read(paths[1]), extra: read(paths[2]))
  }
}
