import Foundation
import Testing

@testable import Inventory

@Suite struct ScenarioTests {
  @Test func fullExample() throws {
    let path = repositoryRoot + "/examples/scenarios/every-command.yaml"
    let scenario = try Scenario.load(path: path)
    #expect(scenario.nodes.map(\.id) == ["gw", "inner", "here"])
    #expect(scenario.node("inner")?.kind
      == .ssh(.init(hostname: "127.0.0.3", username: "apsshuser", port: 22, gateway: "gw")))
    #expect(scenario.node("here")?.kind == .local)
    #expect(scenario.jobs.map(\.id) == ["script", "transfer", "ticker", "local"])

    let script = try #require(scenario.job("script"))
    #expect(script.label == "run a local script remotely")
    #expect(script.critical == false)
    #expect(script.commands == [
      .runScript(.init(script: "examples/scenarios/hello.sh", args: ["one", "two"],
        includes: ["examples/scenarios/diamond.yaml"])),
      .runScript(.init(script: "examples/scenarios/hello.sh", args: ["arg1", "arg2"])),
    ])

    let transfer = try #require(scenario.job("transfer"))
    #expect(transfer.required == ["script"])
    #expect(transfer.commands[0] == .push(.init(localPaths: ["examples/scenarios/hello.sh"], remotePath: "/tmp/")))
    #expect(transfer.commands[1] == .pull(.init(remotePaths: ["/tmp/hello.sh"],
      localPath: "/tmp/hello.sh.back", preserve: true)))
    guard case let .run(run) = transfer.commands[2] else {
      Issue.record("expected a Run")
      return
    }
    #expect(run.commandLine == "cat /tmp/hello.sh")
    #expect(run.options.allowedExits == [.status(1), .signal("TERM")])
    #expect(run.options.capture == "content")

    let ticker = try #require(scenario.job("ticker"))
    #expect(ticker.target == .hosts("127.0.0.[4:5]"))
    #expect(ticker.forever)
    let local = try #require(scenario.job("local"))
    #expect(local.timeout == .milliseconds(1500))
    #expect(local.verbose)
    #expect(local.required == ["transfer"])
    #expect(local.commands == [.runString(.init(body: "echo $1", args: ["local"]))])

    let hosts = try scenario.hostsByJob(resolver: TargetResolver(fallbackDirectory: nil))
    #expect(hosts["ticker"]?.map(\.hostname) == ["127.0.0.4", "127.0.0.5"])
  }

  @Test func templatingWithVars() throws {
    let path = repositoryRoot + "/examples/scenarios/diamond.yaml"
    let scenario = try Scenario.load(path: path, variables: ["user": "alice", "window": "4"])
    #expect(scenario.window == 4)
    #expect(scenario.timeout == .seconds(120))
    #expect(scenario.node("first")?.kind == .ssh(.init(hostname: "127.0.0.2", username: "alice")))
    #expect(scenario.job("prepare")?.target == .hosts("@web"))
    #expect(scenario.job("join")?.required == ["left", "right"])
    #expect(scenario.job("join")?.label == "gather on the local box")
    #expect(scenario.job("right")?.timeout == .seconds(30))
    guard case let .runString(body)? = scenario.job("left")?.commands.first else {
      Issue.record("expected a RunString")
      return
    }
    #expect(body.body.contains("as alice"))
    #expect(body.remoteName == "left.sh")
    let inventory = try Inventory.load(path: repositoryRoot + "/inventories/ranges-and-groups.yaml")
    let hosts = try scenario.hostsByJob(resolver: TargetResolver(inventories: [inventory], fallbackDirectory: nil))
    #expect(hosts["prepare"]?.count == 4)
  }

  @Test func undefinedVariable() throws {
    let error = try #require(throws: InventoryError.self) {
      try Scenario.parse("jobs: []\n\nwindow: {{ size }}\n", path: "s.yaml", variables: ["other": "1"])
    }
    #expect(error.code == .undefinedVariable)
    #expect(error.line == 3)
    #expect(error.key == "size")
    #expect(error.description.hasPrefix("s.yaml:3:"))
    #expect(error.message.contains("--var size="))
  }

  @Test func noTemplateMarkersLeftAlone() throws {
    let text = "jobs:\n  - id: a\n    node: h[1-2]\n    commands:\n      - type: RunString\n        body: 'echo ${#x[@]}'\n"
    let scenario = try Scenario.parse(text)
    #expect(scenario.jobs.first?.commands == [.runString(.init(body: "echo ${#x[@]}"))])
  }

  static let base = """
    nodes:
      - id: n1
        hostname: 127.0.0.2
    jobs:
      - id: j1
        node: n1
        commands:
          - type: Run
            command: true

    """

  func failure(_ extra: String) throws -> InventoryError {
    try #require(throws: InventoryError.self) { try Scenario.parse(Self.base + extra, path: "s.yaml") }
  }

  @Test func unknownJobInRequired() throws {
    let error = try failure("  - id: j2\n    node: n1\n    required: [j1, nope]\n    commands: []\n")
    #expect(error.code == .unknownJob)
    #expect(error.line == 12)
    #expect(error.key == "required")
    #expect(error.message.contains("'nope'"))
    #expect(error.description.hasPrefix("s.yaml:12:"))
  }

  @Test func unknownNode() throws {
    let error = try failure("  - id: j2\n    node: ghost\n    commands: []\n")
    #expect(error.code == .unknownNode)
    #expect(error.line == 11)
    #expect(error.key == "node")
    #expect(error.message.contains("known nodes: n1"))
  }

  @Test func unknownCommandType() throws {
    let error = try failure("  - id: j2\n    node: n1\n    commands:\n      - type: Runn\n")
    #expect(error.code == .unknownCommandType)
    #expect(error.line == 13)
    #expect(error.key == "type")
  }

  @Test func missingField() throws {
    let error = try failure("  - id: j2\n    node: n1\n    commands:\n      - type: Push\n        localpaths: a\n")
    #expect(error.code == .missingField)
    #expect(error.line == 13)
    #expect(error.message.contains("remotepath"))
    let noNode = try failure("  - id: j2\n    commands: []\n")
    #expect(noNode.code == .missingField)
    #expect(noNode.key == "node")
    #expect(noNode.line == 10)
  }

  @Test func unknownKey() throws {
    let error = try failure("  - id: j2\n    node: n1\n    comands: []\n")
    #expect(error.code == .unknownKey)
    #expect(error.line == 12)
    #expect(error.key == "comands")
  }

  @Test func badValues() throws {
    #expect(try failure("  - id: j2\n    node: n1\n    timeout: soon\n    commands: []\n").code == .badDuration)
    #expect(try failure("  - id: j2\n    node: n1\n    critical: maybe\n    commands: []\n").code == .badValue)
    #expect(try failure("  - id: j1\n    node: n1\n    commands: []\n").code == .badValue)
    let noJobs = try #require(throws: InventoryError.self) { try Scenario.parse("nodes: []\n") }
    #expect(noJobs.code == .missingField)
    let badPort = try #require(throws: InventoryError.self) {
      try Scenario.parse("nodes:\n  a: {hostname: h, port: 0}\njobs: []\n", path: "s.yaml")
    }
    #expect(badPort.code == .badPort)
    #expect(badPort.line == 2)
  }

  @Test func badYAMLLine() throws {
    let error = try #require(throws: InventoryError.self) {
      try Scenario.parse("jobs:\n  - id: a\n    node: [\n", path: "s.yaml")
    }
    #expect(error.code == .badYAML)
    #expect(error.line != nil)
  }
}
