import Foundation
import Yams

/// Reads the YAML of a scenario into a `Scenario`, with errors that name file, line and key.
struct ScenarioParser {
  let file: String?

  private static let commandTypes = ["Run", "RunScript", "RunString", "Push", "Pull"]
  private static let runKeys: Set<String> = [
    "type", "label", "verbose", "allowed_exits", "capture", "x11", "ignore_outputs", "command",
    "args",
  ]
  private static let allowedKeys: [String: Set<String>] = [
    "Run": runKeys.union(["argv"]),
    "RunScript": runKeys.union(["local_script", "script", "includes"]),
    "RunString": runKeys.union(["script_body", "body", "remote_name", "includes"]),
    "Push": [
      "type", "label", "verbose", "localpaths", "local_paths", "remotepath", "remote_path",
      "recursive", "preserve",
    ],
    "Pull": [
      "type", "label", "verbose", "remotepaths", "remote_paths", "localpath", "local_path",
      "recursive", "preserve",
    ],
  ]
  private static let nodeKeys: Set<String> = [
    "id", "hostname", "username", "port", "key", "gateway", "localnode", "formatter", "verbose",
    "critical",
  ]
  private static let jobKeys: Set<String> = [
    "id", "label", "node", "commands", "required", "requires", "critical", "forever", "timeout",
    "verbose",
  ]

  func parse(_ text: String) throws -> Scenario {
    var scenario = Scenario(path: file)
    guard let root = try YAMLSupport.compose(text, file: file), let top = root.mapping else {
      throw InventoryError(
        .badStructure, "a scenario should be a mapping with 'nodes:' and 'jobs:'", file: file)
    }
    if let nodes = top["nodes"] { scenario.nodes = try parseNodes(nodes) }
    guard let jobs = top["jobs"] else {
      throw error(.missingField, "the scenario has no 'jobs:' key", at: root, key: "jobs")
    }
    if let window = top["window"] ?? top["jobs_window"] {
      guard let value = window.scalarText.flatMap({ Int($0) }), value >= 0 else {
        throw error(.badValue, "'window' should be a number of jobs, 0 for no limit", at: window,
          key: "window")
      }
      scenario.window = value
    }
    if let timeout = top["timeout"] { scenario.timeout = try duration(timeout, key: "timeout") }
    scenario.jobs = try parseJobs(jobs, nodes: scenario.nodes)
    return scenario
  }

  // MARK: - Nodes

  private func parseNodes(_ node: Node) throws -> [Scenario.Node] {
    var entries: [(id: String?, value: Node, at: Node)] = []
    if let list = node.sequence {
      entries = list.map { (nil, $0, $0) }
    } else if let mapping = node.mapping {
      entries = mapping.map { ($0.key.scalarText, $0.value, $0.key) }
    } else if !node.isNull {
      throw error(.badStructure, "'nodes:' should be a list of nodes (each with 'id:') or a "
        + "mapping 'name: {hostname: ...}'", at: node, key: "nodes")
    }
    var nodes: [Scenario.Node] = []
    for entry in entries {
      var mapping: Node.Mapping
      if let hostname = entry.value.scalarText, entry.id != nil {
        mapping = [Node("hostname"): Node(hostname)]  // `name: 127.0.0.2`
      } else if let given = entry.value.mapping {
        mapping = given
      } else {
        throw error(.badStructure, "a node should be a mapping with 'hostname:' or 'localnode:'",
          at: entry.value, key: entry.id)
      }
      try checkKeys(mapping, allowed: Self.nodeKeys, what: "a node")
      guard let id = entry.id ?? mapping["id"]?.scalarText, !id.isEmpty else {
        throw error(.missingField, "this node has no 'id:'", at: entry.at, key: "id")
      }
      if nodes.contains(where: { $0.id == id }) {
        throw error(.badValue, "node '\(id)' is defined twice", at: entry.at, key: id)
      }
      var result = Scenario.Node(id: id, kind: .local, line: entry.at.mark?.line)
      result.formatter = mapping["formatter"]?.scalarText
      if let verbose = mapping["verbose"] { result.verbose = try bool(verbose, key: "verbose") }
      if mapping["localnode"] == nil {
        guard let hostname = mapping["hostname"]?.scalarText else {
          throw error(.missingField, "node '\(id)' has no 'hostname:' (or 'localnode: true')",
            at: entry.at, key: "hostname")
        }
        var ssh = Scenario.Node.SSH(hostname: hostname)
        ssh.username = mapping["username"]?.scalarText
        ssh.key = mapping["key"]?.scalarText
        if let port = mapping["port"] {
          do {
            ssh.port = try Target.parsePort(port.textValue, context: "node '\(id)'")
          } catch let portError as InventoryError {
            throw error(.badPort, portError.message, at: port, key: "port")
          }
        }
        ssh.gateway = mapping["gateway"]?.scalarText
        result.kind = .ssh(ssh)
      }
      nodes.append(result)
    }
    for (index, node) in nodes.enumerated() {
      guard case let .ssh(ssh) = node.kind, let gateway = ssh.gateway else { continue }
      if !nodes.contains(where: { $0.id == gateway }) {
        throw InventoryError(
          .unknownNode,
          "node '\(node.id)' has an unknown gateway '\(gateway)'; known nodes: "
            + nodes.map(\.id).joined(separator: ", "), file: file, line: nodes[index].line,
          key: "gateway")
      }
    }
    return nodes
  }

  // MARK: - Jobs

  private func parseJobs(_ node: Node, nodes: [Scenario.Node]) throws -> [Scenario.Job] {
    guard let list = node.sequence else {
      throw error(.badStructure, "'jobs:' should be a list of jobs", at: node, key: "jobs")
    }
    var jobs: [Scenario.Job] = []
    var requirements: [(job: Int, id: String, at: Node)] = []
    for item in list {
      guard let mapping = item.mapping else {
        throw error(.badStructure, "a job should be a mapping with 'node:' and 'commands:'",
          at: item, key: nil)
      }
      try checkKeys(mapping, allowed: Self.jobKeys, what: "a job")
      let label = mapping["label"]?.scalarText?.trimmingCharacters(in: .whitespacesAndNewlines)
      guard let id = mapping["id"]?.scalarText ?? label, !id.isEmpty else {
        throw error(.missingField, "this job has neither 'id:' nor 'label:'", at: item, key: "id")
      }
      if jobs.contains(where: { $0.id == id }) {
        throw error(.badValue, "job '\(id)' is defined twice", at: item, key: "id")
      }
      guard let nodeNode = mapping["node"], let nodeName = nodeNode.scalarText else {
        throw error(.missingField, "job '\(id)' has no 'node:'", at: item, key: "node")
      }
      let target: Scenario.JobTarget
      if nodeName.hasPrefix("@") || HostRange.isPattern(nodeName) {
        if HostRange.isPattern(nodeName) {
          do {
            _ = try HostRange.expand(nodeName)
          } catch let rangeError as InventoryError {
            throw error(.badRange, rangeError.message, at: nodeNode, key: "node")
          }
        }
        target = .hosts(nodeName)
      } else {
        guard nodes.contains(where: { $0.id == nodeName }) else {
          let known = nodes.isEmpty ? "none" : nodes.map(\.id).joined(separator: ", ")
          throw error(.unknownNode,
            "job '\(id)' runs on unknown node '\(nodeName)'; known nodes: \(known) "
              + "(or use @group or a host range)", at: nodeNode, key: "node")
        }
        target = .node(nodeName)
      }
      guard let commandsNode = mapping["commands"] else {
        throw error(.missingField, "job '\(id)' has no 'commands:'", at: item, key: "commands")
      }
      guard let commandList = commandsNode.sequence else {
        throw error(.badStructure, "'commands:' of job '\(id)' should be a list",
          at: commandsNode, key: "commands")
      }
      var job = Scenario.Job(
        id: id, label: label, target: target, commands: try commandList.map(command),
        line: item.mark?.line)
      for key in ["required", "requires"] {
        guard let value = mapping[key] else { continue }
        let items = value.sequence.map(Array.init) ?? (value.isNull ? [] : [value])
        for entry in items {
          guard let name = entry.scalarText else {
            throw error(.badValue, "'\(key)' should list job ids", at: entry, key: key)
          }
          job.required.append(name)
          requirements.append((jobs.count, name, entry))
        }
      }
      if let critical = mapping["critical"] { job.critical = try bool(critical, key: "critical") }
      if let forever = mapping["forever"] { job.forever = try bool(forever, key: "forever") }
      if let verbose = mapping["verbose"] { job.verbose = try bool(verbose, key: "verbose") }
      if let timeout = mapping["timeout"] { job.timeout = try duration(timeout, key: "timeout") }
      jobs.append(job)
    }
    for requirement in requirements where !jobs.contains(where: { $0.id == requirement.id }) {
      throw error(.unknownJob,
        "job '\(jobs[requirement.job].id)' requires unknown job '\(requirement.id)'; known jobs: "
          + jobs.map(\.id).joined(separator: ", "), at: requirement.at, key: "required")
    }
    return jobs
  }

  // MARK: - Commands

  private func command(_ node: Node) throws -> Scenario.Command {
    guard let mapping = node.mapping else {
      throw error(.badStructure, "a command should be a mapping with 'type:'", at: node, key: nil)
    }
    guard let typeNode = mapping["type"], let type = typeNode.scalarText else {
      throw error(.missingField,
        "this command has no 'type:' (one of \(Self.commandTypes.joined(separator: ", ")))",
        at: node, key: "type")
    }
    guard let allowed = Self.allowedKeys[type] else {
      throw error(.unknownCommandType,
        "unknown command type '\(type)'; use one of \(Self.commandTypes.joined(separator: ", "))",
        at: typeNode, key: "type")
    }
    try checkKeys(mapping, allowed: allowed, what: "a \(type) command")
    let label = mapping["label"]?.scalarText
    let verbose = try mapping["verbose"].map { try bool($0, key: "verbose") } ?? false
    func strings(_ keys: String...) throws -> [String]? {
      for key in keys { if let value = mapping[key] { return try stringList(value, key: key) } }
      return nil
    }
    func string(_ keys: String...) -> String? {
      keys.lazy.compactMap { mapping[$0]?.scalarText }.first
    }
    func flag(_ key: String) throws -> Bool {
      try mapping[key].map { try bool($0, key: key) } ?? false
    }
    func missing(_ what: String) -> InventoryError {
      error(.missingField, "a \(type) command needs \(what)", at: node, key: what)
    }
    switch type {
    case "Push", "Pull":
      let push = type == "Push"
      guard let sources = try push ? strings("localpaths", "local_paths")
        : strings("remotepaths", "remote_paths")
      else { throw missing(push ? "'localpaths'" : "'remotepaths'") }
      guard let destination = push ? string("remotepath", "remote_path")
        : string("localpath", "local_path")
      else { throw missing(push ? "'remotepath'" : "'localpath'") }
      let recursive = try flag("recursive")
      let preserve = try flag("preserve")
      if push {
        return .push(Scenario.Push(localPaths: sources, remotePath: destination,
          recursive: recursive, preserve: preserve, label: label, verbose: verbose))
      }
      return .pull(Scenario.Pull(remotePaths: sources, localPath: destination,
        recursive: recursive, preserve: preserve, label: label, verbose: verbose))
    default:
      var options = Scenario.RunOptions()
      options.capture = string("capture")
      options.x11 = try flag("x11")
      options.ignoreOutputs = try flag("ignore_outputs")
      if let exits = mapping["allowed_exits"] { options.allowedExits = try allowedExits(exits) }
      var args = try strings("args") ?? []
      // `command:` is split on blanks, the first word being the command, script or body.
      var first: String?
      if let line = string("command") {
        let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
        first = words.first
        args = Array(words.dropFirst()) + args
      }
      switch type {
      case "Run":
        if let argv = try strings("argv"), let head = argv.first {
          first = first ?? head
          args = Array(argv.dropFirst()) + args
        }
        guard let command = first else { throw missing("'command' or 'argv'") }
        return .run(Scenario.Run(command: command, args: args, options: options, label: label,
          verbose: verbose))
      case "RunScript":
        guard let script = string("local_script", "script") ?? first else {
          throw missing("'local_script' (or 'command')")
        }
        return .runScript(Scenario.RunScript(script: script, args: args,
          includes: try strings("includes") ?? [], options: options, label: label,
          verbose: verbose))
      default:
        guard let body = string("script_body", "body") ?? first else {
          throw missing("'script_body' (or 'command')")
        }
        return .runString(Scenario.RunString(body: body, args: args,
          remoteName: string("remote_name"), includes: try strings("includes") ?? [],
          options: options, label: label, verbose: verbose))
      }
    }
  }

  // MARK: - Values

  private func checkKeys(_ mapping: Node.Mapping, allowed: Set<String>, what: String) throws {
    for key in mapping.keys {
      let name = key.textValue
      if !allowed.contains(name) {
        throw error(.unknownKey,
          "unexpected key '\(name)' in \(what); allowed: \(allowed.sorted().joined(separator: ", "))",
          at: key, key: name)
      }
    }
  }

  private func bool(_ node: Node, key: String) throws -> Bool {
    switch node.scalarText?.lowercased() {
    case "true", "yes", "on", "y": return true
    case "false", "no", "off", "n": return false
    default:
      throw error(.badValue, "'\(key)' should be true or false, not '\(node.textValue)'", at: node,
        key: key)
    }
  }

  private func duration(_ node: Node, key: String) throws -> Duration {
    do {
      return try DurationParser.parse(node.textValue)
    } catch let parseError as InventoryError {
      throw error(.badDuration, parseError.message, at: node, key: key)
    }
  }

  private func stringList(_ node: Node, key: String) throws -> [String] {
    if let text = node.scalarText { return [text] }
    guard let list = node.sequence else {
      throw error(.badValue, "'\(key)' should be a string or a list of strings", at: node, key: key)
    }
    return try list.map { item in
      guard let text = item.scalarText else {
        throw error(.badValue, "'\(key)' should hold strings only", at: item, key: key)
      }
      return text
    }
  }

  private func allowedExits(_ node: Node) throws -> [Scenario.AllowedExit] {
    try stringList(node, key: "allowed_exits").map { text in
      if let status = Int(text) {
        guard (0...255).contains(status) else {
          throw error(.badValue, "exit status \(text) in 'allowed_exits' is not between 0 and 255",
            at: node, key: "allowed_exits")
        }
        return .status(status)
      }
      let name = text.uppercased().hasPrefix("SIG") ? String(text.dropFirst(3)) : text
      guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber }) else {
        throw error(.badValue, "'\(text)' in 'allowed_exits' is neither a status nor a signal name",
          at: node, key: "allowed_exits")
      }
      return .signal(name.uppercased())
    }
  }

  private func error(_ code: InventoryError.Code, _ message: String, at node: Node?, key: String?)
    -> InventoryError
  {
    YAMLSupport.error(code, message, at: node, file: file, key: key)
  }
}
