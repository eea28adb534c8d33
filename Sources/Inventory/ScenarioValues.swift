import SshJobs
import Yams

/// The values of a scenario file, with their `{{ name }}` placeholders (see `Template`): the
/// names of `--var` values are replaced when the file is loaded, the names that a command of the
/// file captures (`capture: name`) are left for when the command using them runs, and any other
/// name is an error naming its line.
///
/// The file is parsed as YAML first and placeholders are replaced in the values afterwards, so a
/// value arrives byte for byte whatever it holds (`#`, `: `, quotes, newlines). In command lines,
/// script bodies and arguments a value is shell-quoted unless written `{{ name | raw }}`; in every
/// other place (host names, users, paths, numbers) it goes in as it is.
struct ScenarioValues {
  /// The file, for errors.
  let file: String?
  /// The `--var` values.
  let variables: [String: String]
  /// The names captured at run time by commands of the file.
  let captures: Set<String>

  /// The text of `node` with the `--var` values in; nil for a missing or null value. Capture names
  /// are refused here: their values do not exist yet.
  func data(_ node: Node?, key: String) throws -> String? {
    guard let node, let text = Self.text(of: node) else { return nil }
    guard text.contains("{{") else { return text }
    let template = try parse(text, at: node, key: key)
    for name in template.variableNames where variables[name] == nil {
      if captures.contains(name) {
        throw YAMLSupport.error(
          .undefinedVariable,
          "'\(name)' is captured while the scenario runs: it can only be used in commands (command, args, "
            + "script_body), not in '\(key)'", at: node, file: file, key: key)
      }
      throw undefined(name, at: node, key: key)
    }
    return template.render(quoting: false) { variables[$0] }
  }

  /// A command line, script body or argument: `--var` values shell-quoted (unless `| raw`),
  /// placeholders of captured names kept for run time.
  func command(_ node: Node, key: String) throws -> String? {
    guard let text = Self.text(of: node) else { return nil }
    guard text.contains("{{") else { return text }
    let template = try parse(text, at: node, key: key)
    for name in template.variableNames where variables[name] == nil && !captures.contains(name) {
      throw undefined(name, at: node, key: key)
    }
    return template.partiallyRendered(quoting: true) { variables[$0] }
  }

  private func parse(_ text: String, at node: Node, key: String) throws -> Template {
    do {
      return try Template(parsing: text)
    } catch {
      let block = node.scalar.map { $0.style == .literal || $0.style == .folded } ?? false
      let line = (node.mark?.line).map { $0 + error.line - 1 + (block ? 1 : 0) }
      let column = error.line == 1 && !block ? (node.mark?.column).map { $0 + error.column - 1 } : nil
      throw InventoryError(.badTemplate, error.message, file: file, line: line, column: column, key: key)
    }
  }

  private func undefined(_ name: String, at node: Node, key: String) -> InventoryError {
    let given = variables.keys.sorted()
    var known = "given: " + (given.isEmpty ? "none" : given.joined(separator: ", "))
    if !captures.isEmpty { known += "; captured: " + captures.sorted().joined(separator: ", ") }
    return YAMLSupport.error(
      .undefinedVariable, "undefined variable '\(name)': pass --var \(name)=VALUE, or capture it (\(known))",
      at: node, file: file, key: key)
  }

  /// The text of a scalar; `{{ name }}` for an unquoted placeholder, which YAML reads as a
  /// mapping holding a mapping (`window: {{ n }}` is `window: {{n: null}: null}`); nil otherwise.
  static func text(of node: Node) -> String? {
    if let text = node.scalarText { return text }
    guard case .mapping(let outer) = node, outer.count == 1, let entry = outer.first, entry.value.isNull,
      case .mapping(let inner) = entry.key, inner.count == 1, let name = inner.first, name.value.isNull,
      let expression = name.key.scalarText
    else { return nil }
    return "{{ \(expression) }}"
  }
}
