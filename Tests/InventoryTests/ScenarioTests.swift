import Foundation
import SshJobs
import Testing

@testable import Inventory

/// Scenario files read into run specs: structure, templating, errors with file and line.
@Suite struct ScenarioTests {
  static let noInventory = TargetResolver(fallbackDirectory: nil)

  func parse(_ text: String, variables: [String: String] = [:], resolver: TargetResolver = noInventory) throws
    -> RunSpec
  {
    try ScenarioFile.parse(text, path: "s.yaml", variables: variables, resolver: resolver)
  }

  func job(_ spec: RunSpec, _ name: String) throws -> JobSpec {
    try #require(spec.jobs.first { $0.name == name })
  }

  /// The command line of a `Run`.
  func line(_ command: any Command) -> String? { (command as? Run)?.argv.joined(separator: " ") }

  @Test func fullExample() throws {
    let spec = try ScenarioFile.load(
      path: repositoryRoot + "/examples/scenarios/every-command.yaml", resolver: Self.noInventory)
    #expect(spec.label == "every-command.yaml")
    #expect(spec.jobs.map(\.name) == ["script", "transfer", "ticker", "ticker", "local"])

    let script = try job(spec, "script")
    #expect(script.label == "run a local script remotely")
    #expect(script.critical == false)
    #expect(script.node.hostname == "127.0.0.3" && script.node.user == "apsshuser" && script.node.port == 22)
    #expect(script.node.gateway?.hostname == "127.0.0.2")
    #expect(script.node.name == "inner")
    let first = try #require(script.commands[0] as? RunScript)
    #expect(first.localPath == "examples/scenarios/hello.sh" && first.args == ["one", "two"])
    #expect(first.includes == ["examples/scenarios/diamond.yaml"])
    let second = try #require(script.commands[1] as? RunScript)
    #expect(second.args == ["arg1", "arg2"])

    let transfer = try job(spec, "transfer")
    #expect(transfer.requires == ["script"])
    let push = try #require(transfer.commands[0] as? Push)
    #expect(push.localPaths == ["examples/scenarios/hello.sh"] && push.remotePath == "/tmp/")
    let pull = try #require(transfer.commands[1] as? Pull)
    #expect(pull.remotePaths == ["/tmp/hello.sh"] && pull.localPath == "/tmp/hello.sh.back" && pull.preserve)
    let cat = try #require(transfer.commands[2] as? Run)
    #expect(cat.argv == ["cat /tmp/hello.sh"])
    #expect(cat.allowedExits == [.code(1), .signal("TERM")])
    #expect(cat.capture?.name == "content")

    let tickers = spec.jobs.filter { $0.name == "ticker" }
    #expect(tickers.map(\.node.hostname) == ["127.0.0.4", "127.0.0.5"])
    #expect(tickers.map(\.label) == ["ticker@127.0.0.4", "ticker@127.0.0.5"])
    #expect(tickers.allSatisfy { $0.forever })

    let local = try job(spec, "local")
    #expect(local.node.kind == .local)
    #expect(local.timeout == .milliseconds(1500))
    #expect(local.verbose == true)
    #expect(local.requires == ["transfer"])
    let string = try #require(local.commands.first as? RunString)
    #expect(string.body == "echo $1" && string.args == ["local"])
  }

  @Test func templatingWithVars() throws {
    let inventory = try Inventory.load(path: repositoryRoot + "/inventories/ranges-and-groups.yaml")
    let spec = try ScenarioFile.load(
      path: repositoryRoot + "/examples/scenarios/diamond.yaml", variables: ["user": "alice", "window": "4"],
      resolver: TargetResolver(inventories: [inventory], fallbackDirectory: nil))
    #expect(spec.window == 4)
    #expect(spec.timeout == .seconds(120))
    #expect(try job(spec, "left").node.user == "alice")
    #expect(spec.jobs.filter { $0.name == "prepare" }.count == 4)
    #expect(try job(spec, "join").requires == ["left", "right"])
    #expect(try job(spec, "join").label == "gather on the local box")
    #expect(try job(spec, "right").timeout == .seconds(30))
    let body = try #require(try job(spec, "left").commands.first as? RunString)
    #expect(body.body.contains("as alice"))
    #expect(body.remoteName == "left.sh")
  }

  @Test func undefinedVariable() throws {
    let error = try #require(throws: InventoryError.self) {
      try parse("jobs: []\n\nwindow: {{ size }}\n", variables: ["other": "1"])
    }
    #expect(error.code == .undefinedVariable)
    #expect(error.line == 3)
    #expect(error.key == "window")
    #expect(error.description.hasPrefix("s.yaml:3:"))
    #expect(error.message.contains("--var size="))
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

  func failure(_ extra: String, variables: [String: String] = [:]) throws -> InventoryError {
    try #require(throws: InventoryError.self) { try parse(Self.base + extra, variables: variables) }
  }

  @Test func varValuesArriveByteForByte() throws {
    // Text-level templating cut values at '#', broke on ': ' and let a newline add jobs.
    let values = ["a # not a comment", "key: value", "line one\n  - id: injected\n", "it's \"quoted\"", "{{ x }}", ""]
    for value in values {
      let spec = try parse(
        Self.base + "  - id: j2\n    node: n1\n    label: \"{{ v }}\"\n    commands:\n      - type: Run\n"
          + "        command: echo {{ v }} and {{ v | raw }}\n", variables: ["v": value])
      #expect(spec.jobs.count == 2, "\(value.debugDescription) added or removed jobs")
      let job = try job(spec, "j2")
      #expect(job.label == value.trimmingCharacters(in: .whitespacesAndNewlines) || job.label == nil && value.isEmpty)
      let command = try #require(job.commands.first as? Run)
      // The quoted value is one shell word; the raw one is the value itself. A value holding braces
      // stays literal (`{{ '{{' }}`) so that the command's template reads back to the value.
      let parsed = try Template(parsing: try #require(line(command)))
      #expect(parsed.render(quoting: false) { _ in nil } == "echo \(ShellQuoting.quote(value)) and \(value)")
    }
  }

  @Test func capturedValuesAreLeftForRunTime() throws {
    let spec = try parse(
      Self.base + """
          - id: j2
            node: n1
            required: j1
            commands:
              - type: Run
                command: hostname
                capture: name
              - type: Run
                command: echo {{ name }} {{ name | raw }} {{ greeting }}

        """, variables: ["greeting": "hello world"])
    let command = try #require(try job(spec, "j2").commands[1] as? Run)
    #expect(command.argv == ["echo {{ name }} {{ name | raw }} 'hello world'"])
    #expect(command.variables === spec.variables)
    spec.variables["name"] = "a b"
    #expect(try spec.variables.resolve(command.argv[0]) == "echo 'a b' a b 'hello world'")
  }

  @Test func capturedNameOutsideACommandIsRefused() throws {
    let error = try failure(
      "  - id: j2\n    node: n1\n    label: \"{{ out }}\"\n    commands:\n      - type: Run\n        command: x\n"
        + "        capture: out\n")
    #expect(error.code == .undefinedVariable)
    #expect(error.line == 12)
    #expect(error.message.contains("captured while the scenario runs"))
  }

  @Test func badPlaceholders() throws {
    let unclosed = try failure(
      "  - id: j2\n    node: n1\n    commands:\n      - type: Run\n        command: echo {{ x\n")
    #expect(unclosed.code == .badTemplate)
    #expect(unclosed.line == 14)
    #expect(unclosed.message.contains("without its '}}'"))
    let bad = try failure(
      "  - id: j2\n    node: n1\n    commands:\n      - type: Run\n        command: docker inspect {{.Name}}\n")
    #expect(bad.code == .badTemplate)
    #expect(bad.message.contains("{{ '{{' }}"))
    let literal = try parse(
      Self.base
        + "  - id: j2\n    node: n1\n    commands:\n      - type: Run\n        command: \"echo {{ '{{' }}.Name}}\"\n")
    let command = try #require(try job(literal, "j2").commands.first as? Run)
    #expect(try literal.variables.resolve(command.argv[0]) == "echo {{.Name}}")
  }

  @Test func requirementsMayNameLaterJobs() throws {
    let spec = try parse(
      Self.base
        + "  - id: j2\n    node: n1\n    required: [j3]\n    commands: []\n  - id: j3\n    node: n1\n    commands: []\n"
    )
    #expect(try job(spec, "j2").requires == ["j3"])
    let selfRequired = try failure("  - id: j2\n    node: n1\n    required: j2\n    commands: []\n")
    #expect(selfRequired.code == .cycle)
    #expect(selfRequired.line == 12)
  }

  @Test func unsupportedAndUnknownKeys() throws {
    let x11 = try failure(
      "  - id: j2\n    node: n1\n    commands:\n      - type: Run\n        command: xclock\n        x11: true\n")
    #expect(x11.code == .unsupported)
    #expect(x11.line == 15)
    let critical = try #require(throws: InventoryError.self) {
      try parse("nodes:\n  - id: n\n    hostname: h\n    critical: true\njobs: []\n")
    }
    #expect(critical.code == .unknownKey)
    #expect(critical.line == 4)
    let top = try #require(throws: InventoryError.self) { try parse("jobs: []\nwindows: 3\n") }
    #expect(top.code == .unknownKey)
  }

  @Test func inventoryHostAsNode() throws {
    let directory = try TempDir()
    defer { directory.remove() }
    let path = try directory.write(
      "all:\n  hosts:\n    web1: {ansible_host: 127.0.0.9, ansible_user: alice}\n", to: "inv.yaml")
    let resolver = TargetResolver(inventories: [try Inventory.load(path: path)], fallbackDirectory: nil)
    let spec = try parse("jobs:\n  - id: a\n    node: web1\n    commands: []\n", resolver: resolver)
    #expect(spec.jobs.map(\.node.hostname) == ["127.0.0.9"])
    #expect(spec.jobs.first?.node.user == "alice")
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
    let noJobs = try #require(throws: InventoryError.self) { try parse("nodes: []\n") }
    #expect(noJobs.code == .missingField)
    let badPort = try #require(throws: InventoryError.self) {
      try parse("nodes:\n  a: {hostname: h, port: 0}\njobs: []\n")
    }
    #expect(badPort.code == .badPort)
    #expect(badPort.line == 2)
  }

  @Test func badYAMLLine() throws {
    let error = try #require(throws: InventoryError.self) { try parse("jobs:\n  - id: a\n    node: [\n") }
    #expect(error.code == .badYAML)
    #expect(error.line != nil)
  }

  @Test func gateways() throws {
    let spec = try parse(
      "nodes:\n  inner: {hostname: 10.0.0.2, gateway: hop}\n  hop: {hostname: 10.0.0.1, username: gw}\n"
        + "jobs:\n  - id: a\n    node: inner\n    commands: []\n")
    #expect(spec.jobs.first?.node.gateway?.hostname == "10.0.0.1")
    #expect(spec.jobs.first?.node.gateway?.user == "gw")
    let loop = try #require(throws: InventoryError.self) {
      try parse("nodes:\n  a: {hostname: h1, gateway: b}\n  b: {hostname: h2, gateway: a}\njobs: []\n")
    }
    #expect(loop.message.contains("gateway loop"))
    let local = try #require(throws: InventoryError.self) {
      try parse("nodes:\n  a: {hostname: h1, gateway: b}\n  b: {localnode: true}\njobs: []\n")
    }
    #expect(local.message.contains("must be an SSH node"))
  }
}
