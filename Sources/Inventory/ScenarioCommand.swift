import SshJobs
import Yams

/// Builds the SshJobs command of one `commands:` entry of a scenario: `Run`, `RunScript`,
/// `RunString`, `Push` or `Pull`.
///
/// - `Run`: `command:` (a line, kept as written) or `argv:` (words joined by spaces), plus `args:`;
/// - `RunScript`: `local_script:` (or `script:`) plus `args:`, or `command:` whose first word is the
///   script; `includes:` are pushed beside it;
/// - `RunString`: `script_body:` (or `body:`) plus `args:`, `remote_name:`, `includes:`;
/// - `Push`: `localpaths:` onto `remotepath:`; `Pull`: `remotepaths:` into `localpath:` (also spelled
///   `local_paths`, `remote_path`…); both take `recursive:` and `preserve:`;
/// - every command takes `label:`, `verbose:` and `timeout:`; the `Run*` ones `allowed_exits:`
///   (statuses and signal names) and `capture:` (a variable name: the command's stdout, for
///   `{{ name }}` in later commands).
struct ScenarioCommand {
  let parser: ScenarioParser
  /// Where captures go.
  let variables: Variables

  static let types = ["Run", "RunScript", "RunString", "Push", "Pull"]
  private static let common: Set<String> = ["type", "label", "verbose", "timeout"]
  private static let runKeys = common.union(["allowed_exits", "capture", "command", "args", "x11", "ignore_outputs"])
  private static let allowedKeys: [String: Set<String>] = [
    "Run": runKeys.union(["argv"]),
    "RunScript": runKeys.union(["local_script", "script", "includes"]),
    "RunString": runKeys.union(["script_body", "body", "remote_name", "includes"]),
    "Push": common.union(["localpaths", "local_paths", "remotepath", "remote_path", "recursive", "preserve"]),
    "Pull": common.union(["remotepaths", "remote_paths", "localpath", "local_path", "recursive", "preserve"]),
  ]

  private var values: ScenarioValues { parser.values }

  func make(_ node: Node) throws -> any Command {
    guard let mapping = node.mapping else {
      throw parser.error(.badStructure, "a command should be a mapping with 'type:'", at: node, key: nil)
    }
    guard let typeNode = mapping["type"], let type = typeNode.scalarText else {
      throw parser.error(
        .missingField, "this command has no 'type:' (one of \(Self.types.joined(separator: ", ")))", at: node,
        key: "type")
    }
    guard let allowed = Self.allowedKeys[type] else {
      throw parser.error(
        .unknownCommandType, "unknown command type '\(type)'; use one of \(Self.types.joined(separator: ", "))",
        at: typeNode, key: "type")
    }
    try parser.checkKeys(mapping, allowed: allowed, what: "a \(type) command")
    for key in ["x11", "ignore_outputs"] {
      if let value = mapping[key], try parser.bool(value, key: key) {
        throw parser.error(.unsupported, "'\(key): true' is not supported yet; remove it", at: value, key: key)
      }
    }
    let entry = Entry(command: self, mapping: mapping, at: node, type: type)
    switch type {
    case "Push", "Pull": return try entry.transfer()
    default: return try entry.script()
    }
  }

  /// One command mapping being read.
  private struct Entry {
    let command: ScenarioCommand
    let mapping: Node.Mapping
    let at: Node
    let type: String

    var parser: ScenarioParser { command.parser }
    var values: ScenarioValues { command.values }

    func label() throws -> String? { try values.data(mapping["label"], key: "label") }
    func verbose() throws -> Bool { try mapping["verbose"].map { try parser.bool($0, key: "verbose") } ?? false }
    func timeout() throws -> Duration? { try mapping["timeout"].map { try parser.timeLimit($0, key: "timeout") } }
    func flag(_ key: String) throws -> Bool { try mapping[key].map { try parser.bool($0, key: key) } ?? false }

    /// The first of `keys` present, as a data string.
    func data(_ keys: String...) throws -> String? {
      for key in keys { if let node = mapping[key] { return try values.data(node, key: key) } }
      return nil
    }

    /// The first of `keys` present, as a list of data strings (a single string is a list of one).
    func dataList(_ keys: String...) throws -> [String]? {
      for key in keys {
        if let node = mapping[key] { return try list(node, key: key) { try values.data($0, key: key) } }
      }
      return nil
    }

    /// `args:` (shell words: `{{ }}` values quoted).
    func arguments() throws -> [String] {
      guard let node = mapping["args"] else { return [] }
      return try list(node, key: "args") { try values.command($0, key: "args") }
    }

    func list(_ node: Node, key: String, _ text: (Node) throws -> String?) throws -> [String] {
      if node.scalarText != nil || ScenarioValues.text(of: node) != nil {
        return [try text(node) ?? ""]
      }
      guard let items = node.sequence else {
        throw parser.error(.badValue, "'\(key)' should be a string or a list of strings", at: node, key: key)
      }
      return try items.map { item in
        guard let value = try text(item) else {
          throw parser.error(.badValue, "'\(key)' should hold strings only", at: item, key: key)
        }
        return value
      }
    }

    func missing(_ what: String) -> InventoryError {
      parser.error(.missingField, "a \(type) command needs \(what)", at: at, key: what)
    }

    func transfer() throws -> any Command {
      let push = type == "Push"
      guard let sources = try push ? dataList("localpaths", "local_paths") : dataList("remotepaths", "remote_paths")
      else { throw missing(push ? "'localpaths'" : "'remotepaths'") }
      guard let destination = try push ? data("remotepath", "remote_path") : data("localpath", "local_path")
      else { throw missing(push ? "'remotepath'" : "'localpath'") }
      if push {
        return Push(
          localPaths: sources, remotePath: destination, recursive: try flag("recursive"),
          preserve: try flag("preserve"),
          label: try label(), verbose: try verbose(), timeout: try timeout())
      }
      return Pull(
        remotePaths: sources, localPath: destination, recursive: try flag("recursive"), preserve: try flag("preserve"),
        label: try label(), verbose: try verbose(), timeout: try timeout())
    }

    func script() throws -> any Command {
      var capture: Capture?
      if let node = mapping["capture"] {
        guard let name = node.scalarText, Template.isName(name) else {
          throw parser.error(
            .badValue, "'capture' should be a variable name (letters, digits, _)", at: node, key: "capture")
        }
        capture = Capture(name, in: command.variables)
      }
      let exits = try mapping["allowed_exits"].map(allowedExits) ?? []
      var args = try arguments()
      switch type {
      case "Run":
        var line: String
        if let node = mapping["command"] {
          guard let text = try values.command(node, key: "command") else { throw missing("'command' or 'argv'") }
          line = text
        } else if let node = mapping["argv"] {
          let words = try list(node, key: "argv") { try values.command($0, key: "argv") }
          guard !words.isEmpty else { throw missing("'command' or 'argv'") }
          line = words.joined(separator: " ")
        } else {
          throw missing("'command' or 'argv'")
        }
        if !args.isEmpty { line += " " + args.joined(separator: " ") }
        return Run(
          argv: [line], label: try label(), allowedExits: exits, capture: capture, variables: command.variables,
          verbose: try verbose(), timeout: try timeout())
      case "RunScript":
        var script = try data("local_script", "script")
        if script == nil, let node = mapping["command"], let line = try values.command(node, key: "command") {
          // `command:` is the script and its arguments, split on blanks.
          let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
          script = words.first
          args = Array(words.dropFirst()) + args
        }
        guard let script else { throw missing("'local_script' (or 'command')") }
        return RunScript(
          localPath: script, args: args, includes: try dataList("includes") ?? [], label: try label(),
          allowedExits: exits, capture: capture, variables: command.variables, verbose: try verbose(),
          timeout: try timeout())
      default:
        var body: String?
        for key in ["script_body", "body"] {
          if let node = mapping[key] { body = try values.command(node, key: key) }
          if body != nil { break }
        }
        if body == nil, let node = mapping["command"], let line = try values.command(node, key: "command") {
          let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
          body = words.first
          args = Array(words.dropFirst()) + args
        }
        guard let body else { throw missing("'script_body' (or 'command')") }
        return RunString(
          body: body, args: args, remoteName: try data("remote_name"), includes: try dataList("includes") ?? [],
          label: try label(), allowedExits: exits, capture: capture, variables: command.variables,
          verbose: try verbose(), timeout: try timeout())
      }
    }

    func allowedExits(_ node: Node) throws -> [AllowedExit] {
      try list(node, key: "allowed_exits") { try values.data($0, key: "allowed_exits") }.map { text in
        if let status = Int(text) {
          guard (0...255).contains(status) else {
            throw parser.error(
              .badValue, "exit status \(text) in 'allowed_exits' is not between 0 and 255", at: node,
              key: "allowed_exits")
          }
          return .code(Int32(status))
        }
        let name = text.uppercased().hasPrefix("SIG") ? String(text.dropFirst(3)) : text
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber }) else {
          throw parser.error(
            .badValue, "'\(text)' in 'allowed_exits' is neither a status nor a signal name", at: node,
            key: "allowed_exits")
        }
        return .signal(name.uppercased())
      }
    }
  }
}
