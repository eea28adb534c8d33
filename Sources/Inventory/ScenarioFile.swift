import Foundation
import SshJobs
import Yams

/// A scenario file: nodes, and jobs that run commands on them, read into a `RunSpec`.
///
/// The format is the Python apssh YAML loader's, with extensions: nodes may be a mapping
/// `name: {hostname: ...}` as well as a list of `{id: name, ...}`, and have `port` and `key`; a
/// job's `node` may also be `@group`, a host range or a host of an inventory (one job per host,
/// labelled `id@host`, sharing the job's name for `required`), and has `forever`, `timeout` and
/// `label` (which can stand for `id`); `requires` is another spelling of `required`, which may name
/// jobs defined later in the file; commands have `timeout`; the scenario has `window` and
/// `timeout`. `{{ name }}` placeholders take `--var` values and captured outputs (see
/// ``ScenarioValues``). Every error names the file, line and key.
public enum ScenarioFile {
  /// Reads and parses the scenario file `path` (see ``parse(_:path:variables:resolver:)``).
  public static func load(path: String, variables: [String: String] = [:], resolver: TargetResolver) throws -> RunSpec {
    try parse(Inventory.readText(path: path), path: path, variables: variables, resolver: resolver)
  }

  /// Parses scenario text; `path` names it in errors and labels the run; `resolver` expands the
  /// `@group`, range and inventory-host `node:` of jobs.
  /// - Throws: `InventoryError` naming the file, line and key of the problem.
  public static func parse(
    _ text: String, path: String? = nil, variables: [String: String] = [:], resolver: TargetResolver
  ) throws -> RunSpec {
    guard let root = try YAMLSupport.compose(text, file: path), let top = root.mapping else {
      throw InventoryError(.badStructure, "a scenario should be a mapping with 'nodes:' and 'jobs:'", file: path)
    }
    let parser = ScenarioParser(
      file: path, values: ScenarioValues(file: path, variables: variables, captures: captureNames(top["jobs"])),
      resolver: resolver)
    return try parser.parse(top, root: root)
  }

  /// The names that commands of the file capture, for the run-time placeholders.
  private static func captureNames(_ jobs: Node?) -> Set<String> {
    var names = Set<String>()
    for job in jobs?.sequence ?? [] {
      for command in job.mapping?["commands"]?.sequence ?? [] {
        if let name = command.mapping?["capture"]?.scalarText { names.insert(name) }
      }
    }
    return names
  }
}

/// The parser behind ``ScenarioFile``.
struct ScenarioParser {
  let file: String?
  let values: ScenarioValues
  let resolver: TargetResolver

  static let topKeys: Set<String> = ["nodes", "jobs", "window", "jobs_window", "timeout"]
  static let nodeKeys: Set<String> = [
    "id", "hostname", "username", "port", "key", "gateway", "localnode", "formatter", "verbose",
  ]
  static let jobKeys: Set<String> = [
    "id", "label", "node", "commands", "required", "requires", "critical", "forever", "timeout", "verbose",
  ]
  static let formatters = ["HostFormatter", "TimeHostFormatter", "RawFormatter"]

  func parse(_ top: Node.Mapping, root: Node) throws -> RunSpec {
    try checkKeys(top, allowed: Self.topKeys, what: "a scenario")
    var spec = RunSpec(label: file.map { ($0 as NSString).lastPathComponent } ?? "scenario")
    if let window = top["window"] ?? top["jobs_window"] {
      guard let value = try values.data(window, key: "window").flatMap({ Int($0) }), value >= 0 else {
        throw error(.badValue, "'window' should be a number of jobs, 0 for no limit", at: window, key: "window")
      }
      spec.window = value == 0 ? nil : value
    }
    if let timeout = top["timeout"] { spec.timeout = try timeLimit(timeout, key: "timeout") }
    let nodes = try parseNodes(top["nodes"])
    guard let jobs = top["jobs"] else {
      throw error(.missingField, "the scenario has no 'jobs:' key", at: root, key: "jobs")
    }
    spec.jobs = try parseJobs(jobs, nodes: nodes, variables: spec.variables)
    return spec
  }

  // MARK: - Nodes

  /// A declared node: its spec, and where it is written.
  struct DeclaredNode {
    var spec: NodeSpec
    var at: Node
    var gateway: (id: String, at: Node)?
  }

  private func parseNodes(_ node: Node?) throws -> [String: DeclaredNode] {
    guard let node, !node.isNull else { return [:] }
    var entries: [(id: String?, value: Node, at: Node)] = []
    if let list = node.sequence {
      entries = list.map { (nil, $0, $0) }
    } else if let mapping = node.mapping {
      entries = mapping.map { ($0.key.scalarText, $0.value, $0.key) }
    } else {
      throw error(
        .badStructure, "'nodes:' should be a list of nodes (each with 'id:') or a mapping 'name: {hostname: ...}'",
        at: node, key: "nodes")
    }
    var nodes: [String: DeclaredNode] = [:]
    var order: [String] = []
    for entry in entries {
      let mapping: Node.Mapping
      if entry.id != nil, entry.value.scalarText != nil {
        mapping = [Node("hostname"): entry.value]  // `name: 127.0.0.2`
      } else if let given = entry.value.mapping {
        mapping = given
      } else {
        throw error(
          .badStructure, "a node should be a mapping with 'hostname:' or 'localnode:'", at: entry.value, key: entry.id)
      }
      try checkKeys(mapping, allowed: Self.nodeKeys, what: "a node")
      guard let id = try entry.id ?? values.data(mapping["id"], key: "id"), !id.isEmpty else {
        throw error(.missingField, "this node has no 'id:'", at: entry.at, key: "id")
      }
      if nodes[id] != nil {
        throw error(.badValue, "node '\(id)' is defined twice", at: entry.at, key: id)
      }
      var spec: NodeSpec
      var gateway: (String, Node)?
      if mapping["localnode"] != nil {
        for key in ["hostname", "username", "port", "key", "gateway"] where mapping[key] != nil {
          throw error(.badValue, "node '\(id)' is a local node: it has no '\(key)'", at: mapping[key], key: key)
        }
        spec = .local
        spec.name = id
      } else {
        guard let hostname = try values.data(mapping["hostname"], key: "hostname"), !hostname.isEmpty else {
          throw error(
            .missingField, "node '\(id)' has no 'hostname:' (or 'localnode: true')", at: entry.at, key: "hostname")
        }
        spec = .ssh(hostname, name: id)
        spec.user = try values.data(mapping["username"], key: "username")
        if let key = try values.data(mapping["key"], key: "key") { spec.keys = [key] }
        if let port = mapping["port"] {
          do {
            spec.port = try Target.parsePort(try values.data(port, key: "port") ?? "", context: "node '\(id)'")
          } catch let portError as InventoryError where portError.file == nil {
            throw error(.badPort, portError.message, at: port, key: "port")
          }
        }
        if let hop = mapping["gateway"], let hopID = try values.data(hop, key: "gateway") { gateway = (hopID, hop) }
      }
      if let formatter = mapping["formatter"] {
        let name = try values.data(formatter, key: "formatter")
        guard let name, Self.formatters.contains(name) else {
          throw error(
            .badValue, "unknown formatter '\(name ?? "")'; use \(Self.formatters.joined(separator: ", "))",
            at: formatter,
            key: "formatter")
        }
        spec.formatter = name
      }
      if let verbose = mapping["verbose"] { spec.verbose = try bool(verbose, key: "verbose") }
      nodes[id] = DeclaredNode(spec: spec, at: entry.at, gateway: gateway)
      order.append(id)
    }
    // Gateways by id, wherever they are declared; a chain is resolved hop by hop.
    var resolved: [String: NodeSpec] = [:]
    func resolve(_ id: String, visiting: [String]) throws -> NodeSpec {
      if let done = resolved[id] { return done }
      guard var declared = nodes[id] else { throw InventoryError(.unknownNode, "unknown node '\(id)'", file: file) }
      if let hop = declared.gateway {
        guard !visiting.contains(hop.id) && hop.id != id else {
          throw error(.badValue, "gateway loop through node '\(hop.id)'", at: hop.at, key: "gateway")
        }
        guard let gatewayNode = nodes[hop.id] else {
          throw error(
            .unknownNode,
            "node '\(id)' has an unknown gateway '\(hop.id)'; known nodes: \(order.joined(separator: ", "))",
            at: hop.at, key: "gateway")
        }
        guard gatewayNode.spec.kind == .ssh else {
          throw error(.badValue, "gateway '\(hop.id)' must be an SSH node, not a local one", at: hop.at, key: "gateway")
        }
        declared.spec.gateway = try resolve(hop.id, visiting: visiting + [id])
      }
      resolved[id] = declared.spec
      return declared.spec
    }
    var result: [String: DeclaredNode] = [:]
    for id in order {
      var declared = nodes[id]!
      declared.spec = try resolve(id, visiting: [])
      result[id] = declared
    }
    return result
  }

  // MARK: - Jobs

  private func parseJobs(_ node: Node, nodes: [String: DeclaredNode], variables: Variables) throws -> [JobSpec] {
    guard let list = node.sequence else {
      throw error(.badStructure, "'jobs:' should be a list of jobs", at: node, key: "jobs")
    }
    var jobs: [JobSpec] = []
    var names: [String] = []
    var requirements: [(job: String, name: String, at: Node)] = []
    for item in list {
      guard let mapping = item.mapping else {
        throw error(.badStructure, "a job should be a mapping with 'node:' and 'commands:'", at: item, key: nil)
      }
      try checkKeys(mapping, allowed: Self.jobKeys, what: "a job")
      let label = try values.data(mapping["label"], key: "label")?.trimmingCharacters(in: .whitespacesAndNewlines)
      guard let id = try values.data(mapping["id"], key: "id") ?? label, !id.isEmpty else {
        throw error(.missingField, "this job has neither 'id:' nor 'label:'", at: item, key: "id")
      }
      if names.contains(id) {
        throw error(.badValue, "job '\(id)' is defined twice", at: item, key: "id")
      }
      names.append(id)
      guard let nodeNode = mapping["node"], let nodeName = try values.data(nodeNode, key: "node") else {
        throw error(.missingField, "job '\(id)' has no 'node:'", at: item, key: "node")
      }
      guard let commandsNode = mapping["commands"] else {
        throw error(.missingField, "job '\(id)' has no 'commands:'", at: item, key: "commands")
      }
      guard let commandList = commandsNode.sequence else {
        throw error(.badStructure, "'commands:' of job '\(id)' should be a list", at: commandsNode, key: "commands")
      }
      let commands = try commandList.map { try ScenarioCommand(parser: self, variables: variables).make($0) }
      var required: [String] = []
      for key in ["required", "requires"] {
        guard let value = mapping[key] else { continue }
        let entries = value.sequence.map(Array.init) ?? (value.isNull ? [] : [value])
        for entry in entries {
          guard let name = try values.data(entry, key: key) else {
            throw error(.badValue, "'\(key)' should list job ids", at: entry, key: key)
          }
          if name == id {
            throw error(.cycle, "job '\(id)' requires itself", at: entry, key: key)
          }
          required.append(name)
          requirements.append((id, name, entry))
        }
      }
      var template = JobSpec(
        name: id, label: label, node: .local, commands: commands, requires: required,
        location: SourceLocation(file: file, line: item.mark?.line))
      if let critical = mapping["critical"] { template.critical = try bool(critical, key: "critical") }
      if let forever = mapping["forever"] { template.forever = try bool(forever, key: "forever") }
      if let verbose = mapping["verbose"], try bool(verbose, key: "verbose") { template.verbose = true }
      if let timeout = mapping["timeout"] { template.timeout = try timeLimit(timeout, key: "timeout") }
      if let declared = nodes[nodeName] {
        template.node = declared.spec
        template.label = label ?? id
        jobs.append(template)
      } else {
        for target in try hosts(nodeName, job: id, at: nodeNode, nodes: nodes) {
          var job = template
          job.node = target.nodeSpec
          job.label = "\(label ?? id)@\(target.hostname)"
          jobs.append(job)
        }
      }
    }
    for requirement in requirements where !names.contains(requirement.name) {
      throw error(
        .unknownJob,
        "job '\(requirement.job)' requires unknown job '\(requirement.name)'; known jobs: \(names.joined(separator: ", "))",
        at: requirement.at, key: "required")
    }
    return jobs
  }

  /// The hosts of a job whose `node:` is not a declared node: `@group`, a range, or hosts that an
  /// inventory knows.
  private func hosts(_ name: String, job: String, at node: Node, nodes: [String: DeclaredNode]) throws -> [Target] {
    let isPattern = name.hasPrefix("@") || HostRange.isPattern(name)
    if !isPattern && !resolver.inventories.contains(where: { $0.hasHost(name) }) {
      let known = nodes.keys.sorted()
      throw error(
        .unknownNode,
        "job '\(job)' runs on unknown node '\(name)'; known nodes: \(known.isEmpty ? "none" : known.joined(separator: ", ")) "
          + "(or a host of an inventory given with -I, @group, or a host range)", at: node, key: "node")
    }
    do {
      return try resolver.resolve([name])
    } catch let failure as InventoryError {
      var located = failure
      if located.file == nil {
        located.file = file
        located.line = node.mark?.line
        located.key = "node"
      }
      throw located
    }
  }

  // MARK: - Values

  func checkKeys(_ mapping: Node.Mapping, allowed: Set<String>, what: String) throws {
    for key in mapping.keys {
      let name = key.textValue
      if !allowed.contains(name) {
        throw error(
          .unknownKey, "unexpected key '\(name)' in \(what); allowed: \(allowed.sorted().joined(separator: ", "))",
          at: key,
          key: name)
      }
    }
  }

  func bool(_ node: Node, key: String) throws -> Bool {
    switch try values.data(node, key: key)?.lowercased() {
    case "true", "yes", "on", "y": return true
    case "false", "no", "off", "n": return false
    default: throw error(.badValue, "'\(key)' should be true or false, not '\(node.textValue)'", at: node, key: key)
    }
  }

  /// The time limit written at `node` (above zero).
  func timeLimit(_ node: Node, key: String) throws -> Duration {
    do {
      return try DurationParser.parseTimeLimit(try values.data(node, key: key) ?? "")
    } catch let parseError as InventoryError where parseError.code == .badDuration {
      throw error(.badDuration, parseError.message, at: node, key: key)
    }
  }

  func error(_ code: InventoryError.Code, _ message: String, at node: Node?, key: String?) -> InventoryError {
    YAMLSupport.error(code, message, at: node, file: file, key: key)
  }
}
