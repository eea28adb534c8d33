import Foundation
import Yams

/// Small helpers over Yams nodes shared by the YAML inventory and the scenario parsers.
enum YAMLSupport {
  /// Parses `text` into a node tree, turning Yams errors into `InventoryError` `.badYAML` with
  /// the line and column of the problem; `nil` for an empty document.
  /// A key written twice in one mapping is an error (Yams would keep both, and readers the first
  /// or the last: a setting silently lost).
  static func compose(_ text: String, file: String?) throws -> Node? {
    try YAMLLimits.check(text, file: file)
    let root: Node?
    do {
      root = try Yams.compose(yaml: text)
    } catch let error as YamlError {
      switch error {
      case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
        let .composer(context, problem, mark, _):
        var message = "bad YAML: \(problem)"
        if let context { message += " (\(context.text) at line \(context.mark.line))" }
        message += "; check the indentation and the quoting around this place"
        throw InventoryError(.badYAML, message, file: file, line: mark.line, column: mark.column)
      default:
        throw InventoryError(.badYAML, "bad YAML: \(error)", file: file)
      }
    } catch {
      throw InventoryError(.badYAML, "bad YAML: \(error)", file: file)
    }
    if let root { try checkUniqueKeys(root, file: file) }
    return root
  }

  /// Throws `.badStructure` at the second occurrence of a key in any mapping of the tree. (The
  /// tree is shallow and small: `YAMLLimits` bounded its depth and aliases.)
  static func checkUniqueKeys(_ node: Node, file: String?) throws {
    switch node {
    case .scalar:
      return
    case .sequence(let sequence):
      for item in sequence { try checkUniqueKeys(item, file: file) }
    case .mapping(let mapping):
      var seen: [String: Node] = [:]
      for (key, value) in mapping {
        let name = key.textValue
        if let first = seen[name] {
          let place = first.mark.map { " (first at line \($0.line))" } ?? ""
          throw error(
            .badStructure,
            "'\(name)' is written twice in the same mapping\(place): keep one (YAML keys are unique)",
            at: key, file: file, key: name)
        }
        seen[name] = key
        try checkUniqueKeys(value, file: file)
      }
    }
  }

  /// An error located at `node`.
  static func error(
    _ code: InventoryError.Code, _ message: String, at node: Node?, file: String?,
    key: String? = nil
  ) -> InventoryError {
    InventoryError(
      code, message, file: file, line: node?.mark?.line, column: node?.mark?.column, key: key)
  }

  /// A YAML kind name for messages.
  static func kind(_ node: Node) -> String {
    switch node {
    case .scalar: return node.isNull ? "nothing" : "a single value"
    case .mapping: return "a mapping"
    case .sequence: return "a list"
    }
  }
}

extension Node {
  /// Whether the node is an explicit or implicit YAML null (`~`, `null`, empty).
  var isNull: Bool {
    guard case let .scalar(scalar) = self else { return false }
    if scalar.style != .plain && scalar.style != .any { return false }
    return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
  }

  /// The text of a scalar (not null), else `nil`.
  var scalarText: String? {
    guard case let .scalar(scalar) = self, !isNull else { return nil }
    return scalar.string
  }

  /// A value as text: scalars as they are, lists and mappings in YAML flow style.
  var textValue: String {
    if let scalarText { return scalarText }
    if isNull { return "" }
    let serialized = (try? Yams.serialize(node: self)) ?? ""
    return serialized.trimmingCharacters(in: .whitespacesAndNewlines)
  }
}
