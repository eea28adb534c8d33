import APSSHCLI
import Foundation
import Testing

/// `apssh -S`: scenario files, for real against the testbed and as listings.
@Suite struct ScenarioTests {
  @Test func demoScenarioRunsForReal() async throws {
    let fleet = try await Fleet.shared()
    let result = await apssh([
      "-I", fleet.testbed.inventoryPath, "--known-hosts", fleet.testbed.knownHostsPath,
      "-S", packageRoot + "/examples/scenarios/demo.yaml",
    ])
    #expect(result.code == 0, "\(result.stderr)")
    #expect(result.stdout.contains("hello from"))
    #expect(result.stdout.contains("all hosts answered"))
    #expect(result.stdout.contains("gather on the local machine"))
    #expect(result.stdout.contains("check@127.0.0.3"))
  }

  @Test func scenarioJSONAndProgress() async throws {
    let fleet = try await Fleet.shared()
    let result = await apssh(
      [
        "-I", fleet.testbed.inventoryPath, "--known-hosts", fleet.testbed.knownHostsPath,
        "-S", packageRoot + "/examples/scenarios/demo.yaml", "--json",
      ], terminal: true)
    #expect(result.code == 0, "\(result.stderr)")
    let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    let jobs = try #require(report["hosts"] as? [[String: Any]])
    #expect(jobs.count == fleet.testbed.hosts.count + 3)
    #expect(jobs.last?["job"] as? String == "gather on the local machine")
    #expect(jobs.last?["stdout"] as? String == "all hosts answered\n")
    #expect(jobs.allSatisfy { $0["status"] as? String == "ok" })
    #expect(result.stderr.contains("done, 0 running, 0 failed"), "progress line on a terminal")
    #expect(result.stderr.contains("<SshJob"), "the listing goes to stderr with --json")
  }

  @Test(
    arguments: try FileManager.default.contentsOfDirectory(atPath: packageRoot + "/examples/scenarios")
      .filter { $0.hasSuffix(".yaml") }.sorted())
  func everyExampleScenarioLists(_ name: String) async throws {
    let fleet = try await Fleet.shared()
    let result = await apssh([
      "-I", packageRoot + "/inventories/ranges-and-groups.yaml", "-I", fleet.testbed.inventoryPath, "-S",
      packageRoot + "/examples/scenarios/" + name,
      "--var", "user=apsshuser", "--var", "window=4", "--dry-run",
    ])
    #expect(result.code == 0, "\(name): \(result.stderr)")
    #expect(result.stdout.contains("<SshJob"), "\(result.stdout)")
  }

  @Test func gatewayDeclaredAfterItsNodeIsUsed() async throws {
    let fleet = try await Fleet.shared()
    let path = temporaryDirectory() + "/scenario.yaml"
    // The gateway refuses connections: the job can only succeed if the gateway were ignored.
    try write(
      """
      nodes:
        - id: target
          hostname: \(fleet.address(7))
          username: \(fleet.testbed.username)
          port: \(fleet.testbed.port)
          gateway: hop
        - id: hop
          hostname: 127.0.0.250
          username: \(fleet.testbed.username)
          port: 1
      jobs:
        - id: through
          node: target
          commands:
            - type: Run
              command: echo reached
      """, to: path)
    let result = await apssh(fleet.auth + ["-S", path])
    #expect(result.code == 3, "\(result.stdout)\(result.stderr)")
    #expect(!result.stdout.contains("reached"))
    #expect(result.stdout.contains("127.0.0.250") || result.stderr.contains("127.0.0.250"))

    let loop = temporaryDirectory() + "/loop.yaml"
    try write(
      """
      nodes:
        - id: a
          hostname: 127.0.0.2
          gateway: b
        - id: b
          hostname: 127.0.0.3
          gateway: a
      jobs:
        - id: never
          node: a
          commands:
            - type: Run
              command: "true"
      """, to: loop)
    let looped = await apssh(fleet.auth + ["-S", loop])
    #expect(looped.code == 2)
    #expect(looped.stderr.contains("gateway loop"), "\(looped.stderr)")
  }

  @Test func variablesDependenciesAndFailure() async throws {
    let fleet = try await Fleet.shared()
    let path = temporaryDirectory() + "/scenario.yaml"
    try write(
      """
      window: 2
      nodes:
        - id: one
          hostname: \(fleet.address(6))
          username: \(fleet.testbed.username)
          port: \(fleet.testbed.port)
          key: \(fleet.testbed.userKeyPath)
      jobs:
        - id: first
          node: one
          commands:
            - type: Run
              command: echo {{ greeting }} first
        - id: second
          node: one
          required: first
          critical: false
          commands:
            - type: Run
              command: exit {{ status }}
        - id: third
          node: one
          required: [second]
          commands:
            - type: Run
              command: echo third
      """, to: path)
    let ok = await apssh([
      "--known-hosts", fleet.testbed.knownHostsPath, "-S", path, "--var", "greeting=hi", "--var", "status=0",
    ])
    #expect(ok.code == 0, "\(ok.stderr)")
    #expect(ok.stdout.contains("hi first"))
    #expect(ok.stdout.contains("third"))
    let failed = await apssh([
      "--known-hosts", fleet.testbed.knownHostsPath, "-S", path, "--var", "greeting=hi", "--var", "status=5",
    ])
    // A non-critical failure lets the scenario go on, but the run did not fully succeed: exit 1,
    // and the failed job is named.
    #expect(failed.code == 1, "\(failed.stderr)")
    #expect(failed.stdout.contains("third"))
    #expect(failed.stderr.contains("second: exit 5"), "\(failed.stderr)")
    let graph = temporaryDirectory() + "/graph.dot"
    let drawn = await apssh(["-S", path, "--var", "greeting=hi", "--var", "status=0", "--graph", graph, "-n"])
    #expect(drawn.code == 0, "\(drawn.stderr)")
    #expect(FileManager.default.fileExists(atPath: graph))
  }

  @Test func criticalFailureExitsOne() async throws {
    let fleet = try await Fleet.shared()
    let path = temporaryDirectory() + "/fail.yaml"
    try write(
      """
      nodes:
        one:
          formatter: RawFormatter
          hostname: \(fleet.address(7))
          username: \(fleet.testbed.username)
          port: \(fleet.testbed.port)
      jobs:
        - id: boom
          node: one
          commands:
            - type: Run
              command: echo raw; exit 3
      """, to: path)
    let result = await apssh([
      "-k", fleet.testbed.userKeyPath, "--known-hosts", fleet.testbed.knownHostsPath, "-S", path,
    ])
    #expect(result.code == 1)
    #expect(result.stdout.hasPrefix("raw\n"), "the node's RawFormatter: \(result.stdout)")
    #expect(result.stderr.contains("boom") || result.stdout.contains("boom"))
  }

  @Test func badScenarioNamesFileAndLine() async throws {
    let path = temporaryDirectory() + "/bad.yaml"
    try write(
      "nodes:\n  - id: a\n    hostname: h\njobs:\n  - id: j\n    node: a\n    colour: blue\n    commands: []\n",
      to: path)
    let result = await apssh(["-S", path, "-n"])
    #expect(result.code == 2)
    #expect(result.stderr.contains(path + ":7"), "\(result.stderr)")
    let missing = await apssh(["-S", "/nonexistent/scenario.yaml"])
    #expect(missing.code == 2)
    let badVar = await apssh(["-S", path, "--var", "novalue"])
    #expect(badVar.code == 2)
  }
}
