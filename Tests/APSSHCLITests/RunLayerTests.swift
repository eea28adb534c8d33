import APSSHCLI
import Foundation
import Testbed
import Testing

/// Ad-hoc runs and scenario files go through one run layer: the same options mean the same thing
/// on both paths (command timeout, retries, keys, agent), and a scenario reads what it captured.
@Suite struct RunLayerTests {
  /// A scenario file with one job running `command` on one testbed host, as a named node.
  func scenario(
    _ fleet: Fleet, host: Int, command: String, key: String? = nil, port: UInt16? = nil, address: String? = nil
  )
    throws -> String
  {
    let path = temporaryDirectory() + "/scenario.yaml"
    try write(
      """
      nodes:
        - id: target
          hostname: \(address ?? fleet.address(host))
          username: \(fleet.testbed.username)
          port: \(port ?? fleet.testbed.port)
      \(key.map { "    key: \($0)" } ?? "")
      jobs:
        - id: work
          node: target
          commands:
            - type: Run
              command: \(command)
      """, to: path)
    return path
  }

  /// How many processes run exactly `command` (the testbed's hosts are local processes).
  static func processes(_ command: String) -> Int {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.filter { Int($0) != nil }.filter { pid in
      guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
      return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ") == command
    }.count
  }

  /// Polls until no process runs `command`, at most `limit`.
  static func gone(_ command: String, within limit: Duration = .seconds(10)) async throws -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline, processes(command) > 0 { try await Task.sleep(for: .milliseconds(50)) }
    return processes(command) == 0
  }

  @Test func commandTimeoutOnBothPaths() async throws {
    let fleet = try await Fleet.shared()
    let sleep = "sleep 33.\(Int.random(in: 100_000...999_999))"
    let adHoc = await apssh(fleet.auth + fleet.targets([10]) + ["--command-timeout", "1s", sleep])
    let file = try scenario(fleet, host: 11, command: sleep)
    let scenario = await apssh(fleet.auth + ["-S", file, "--command-timeout", "1s"])
    for result in [adHoc, scenario] {
      #expect(result.code == 1, "\(result.stderr)")
      #expect(result.stderr.contains("command timed out after 1s: \(sleep)"), "\(result.stderr)")
    }
    #expect(try await Self.gone(sleep), "the remote commands were stopped")
  }

  @Test func retriesOnBothPaths() async throws {
    let fleet = try await Fleet.shared()
    let refusing = try fleet.testbed.refusingEndpoint()
    let options = ["--retries", "3", "-v", "-c", "5"]
    let adHoc = await apssh(
      fleet.auth + options + ["-t", "\(fleet.testbed.username)@\(refusing.address):\(refusing.port)", "true"])
    let file = try scenario(fleet, host: 0, command: "true", port: refusing.port, address: refusing.address)
    let scenario = await apssh(fleet.auth + options + ["-S", file])
    for result in [adHoc, scenario] {
      #expect(result.code == 3)
      let lines = result.stderr.split(separator: "\n")
      #expect(
        lines.filter { $0.contains("Connection attempt failed") && $0.contains("retrying") }.count == 2,
        "\(result.stderr)")
      #expect(lines.filter { $0.contains("Connection failed to") && $0.contains(" : ") }.count == 1, "\(result.stderr)")
    }
  }

  @Test func keysOnBothPaths() async throws {
    let fleet = try await Fleet.shared()
    let directory = temporaryDirectory()
    let wrong = directory + "/wrong_key"
    try await keygen(at: wrong)
    let right = fleet.testbed.userKeyPath
    let knownHosts = ["--known-hosts", fleet.testbed.knownHostsPath]
    // The node's own key is wrong, -k gives the right one: -k keys are tried first.
    let inventory = directory + "/inventory.yaml"
    try write(
      "all:\n  hosts:\n    \(fleet.address(12)):\n      ansible_port: \(fleet.testbed.port)\n"
        + "      ansible_user: \(fleet.testbed.username)\n      ansible_ssh_private_key_file: \(wrong)\n", to: inventory
    )
    let adHoc = await apssh(knownHosts + ["-I", inventory, "-k", right, "-t", fleet.address(12), "echo", "in"])
    let file = try scenario(fleet, host: 12, command: "echo in", key: wrong)
    let scenario = await apssh(knownHosts + ["-k", right, "-S", file])
    for result in [adHoc, scenario] {
      #expect(result.code == 0, "\(result.stderr)")
      #expect(result.stdout.contains("in\n"))
    }
    // Only a wrong key: both paths fail the same way, naming it.
    let wrongOnly = await apssh(knownHosts + ["-k", wrong] + fleet.targets([12]) + ["true"])
    let wrongScenario = await apssh(
      knownHosts + ["-k", wrong, "-S", try self.scenario(fleet, host: 12, command: "true")])
    for result in [wrongOnly, wrongScenario] {
      #expect(result.code == 3)
      #expect(result.stderr.contains("authentication failed") && result.stderr.contains(wrong), "\(result.stderr)")
    }
  }

  @Test func agentOnBothPaths() async throws {
    let fleet = try await Fleet.shared()
    let directory = temporaryDirectory()
    let agent = try await Agent.start(in: directory, key: fleet.testbed.userKeyPath)
    defer { agent.stop() }
    var environment = ProcessInfo.processInfo.environment
    environment["SSH_AUTH_SOCK"] = agent.socket
    environment["HOME"] = directory  // no default key file: only the agent can log in
    let knownHosts = ["--known-hosts", fleet.testbed.knownHostsPath]
    let adHoc = try await ChildProcess.run(
      "apssh", knownHosts + fleet.targets([13]) + ["echo", "agent"], environment: environment)
    let file = try scenario(fleet, host: 13, command: "echo agent")
    let scenario = try await ChildProcess.run("apssh", knownHosts + ["-S", file], environment: environment)
    for result in [adHoc, scenario] {
      #expect(result.code == 0, "\(result.stderr)")
      #expect(result.stdout.contains("agent\n"))
    }
    // With -k, the agent is not used, on either path.
    let withKey = ["-K", "-k", directory + "/missing"]
    let adHocK = try await ChildProcess.run(
      "apssh", knownHosts + withKey + fleet.targets([13]) + ["true"], environment: environment)
    let scenarioK = try await ChildProcess.run("apssh", knownHosts + withKey + ["-S", file], environment: environment)
    for result in [adHocK, scenarioK] {
      #expect(result.code == 3)
      #expect(result.stderr.contains("authentication failed"), "\(result.stderr)")
      #expect(!result.stderr.contains("ssh-agent"), "the agent was not tried: \(result.stderr)")
    }
  }

  @Test func aScenarioReadsWhatItCaptured() async throws {
    let fleet = try await Fleet.shared()
    let marker = NSTemporaryDirectory() + "pwned-\(UUID().uuidString)"
    let path = temporaryDirectory() + "/capture.yaml"
    try write(
      """
      nodes:
        - id: one
          hostname: \(fleet.address(14))
          username: \(fleet.testbed.username)
          port: \(fleet.testbed.port)
        - id: here
          localnode: true
      jobs:
        - id: ask
          node: one
          commands:
            - type: Run
              command: echo "two  words \\$(touch \(marker))"
              capture: answer
        - id: tell
          node: here
          required: ask
          commands:
            - type: Run
              command: echo '[{{ answer | raw }}]' {{ answer }}
      """, to: path)
    let result = await apssh(fleet.auth + ["-S", path])
    #expect(result.code == 0, "\(result.stderr)")
    #expect(result.stdout.contains("[two  words $(touch \(marker))] two  words $(touch \(marker))"), "\(result.stdout)")
    #expect(!FileManager.default.fileExists(atPath: marker), "a captured value is data, not code")
  }
}

/// An ssh-agent holding one key, on a socket of its own.
struct Agent {
  let process: Process
  let socket: String

  static func start(in directory: String, key: String) async throws -> Agent {
    let socket = directory + "/agent.sock"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-agent")
    process.arguments = ["-D", "-a", socket]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    let deadline = ContinuousClock.now + .seconds(10)
    while !FileManager.default.fileExists(atPath: socket), ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(20))
    }
    let add = Process()
    add.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-add")
    add.arguments = [key]
    add.environment = ["SSH_AUTH_SOCK": socket]
    add.standardOutput = FileHandle.nullDevice
    add.standardError = FileHandle.nullDevice
    let added = AsyncStream<Int32> { continuation in
      add.terminationHandler = {
        continuation.yield($0.terminationStatus); continuation.finish()
      }
    }
    try add.run()
    for await status in added where status != 0 { throw CocoaError(.fileReadUnknown) }
    return Agent(process: process, socket: socket)
  }

  func stop() { process.terminate() }
}

/// Makes an ed25519 key pair at `path` with ssh-keygen.
func keygen(at path: String) async throws {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
  process.arguments = ["-q", "-t", "ed25519", "-N", "", "-f", path]
  let ended = AsyncStream<Int32> { continuation in
    process.terminationHandler = {
      continuation.yield($0.terminationStatus); continuation.finish()
    }
  }
  try process.run()
  for await status in ended where status != 0 { throw CocoaError(.fileWriteUnknown) }
}
