import Foundation
import Yams

/// Small helpers over Yams nodes shared by the YAML inventory and the scenario parsers.
enum YAMLSupport {
  /// Parses `text` into a node tree, turning Yams errors into `InventoryError` `.badYAML` with
  /// the line and column of the problem; `nil` for an empty document.
  static func compose(_ text: String, file: String?) throws -> Node? {
    try YAMLLimits.check(text, file: file)
    do {
      return try Yams.compose(yaml: text)
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
