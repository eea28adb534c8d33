import Foundation
import Stencil

/// `{{ name }}` substitution in scenario files, through Stencil (Jinja-like), on the text before
/// YAML parsing, so that line numbers stay right (unless a value has newlines).
///
/// Stencil renders an undefined variable as an empty string, so every `{{ name ... }}` is checked
/// first: a name without a value is an error naming it, its line and column. Files without `{{`
/// nor `{%` are left untouched (so `${#array[@]}` in a script body, a Stencil comment opener, is
/// safe there; in a templated file write it `{{ "{#" }}`).
enum ScenarioTemplate {
  static func render(_ text: String, variables: [String: String], file: String?) throws -> String {
    guard text.contains("{{") || text.contains("{%") else { return text }
    try checkDefined(text, variables: variables, file: file)
    do {
      return try Environment().renderTemplate(string: text, context: variables)
    } catch let error as TemplateSyntaxError {
      let line = error.token.map { Int($0.sourceMap.location.lineNumber) }
      throw InventoryError(
        .undefinedVariable, "template error: \(error.reason)", file: file, line: line)
    } catch {
      throw InventoryError(.undefinedVariable, "template error: \(error)", file: file)
    }
  }

  private static func checkDefined(_ text: String, variables: [String: String], file: String?)
    throws
  {
    let pattern = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)/
    var lineNumber = 0
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      lineNumber += 1
      for match in line.matches(of: pattern) {
        let name = String(match.output.1)
        guard variables[name] == nil, !["true", "false", "nil"].contains(name) else { continue }
        let column = line.distance(from: line.startIndex, to: match.range.lowerBound) + 1
        let known = variables.keys.sorted()
        let hint = known.isEmpty ? "none given" : "given: " + known.joined(separator: ", ")
        throw InventoryError(
          .undefinedVariable,
          "undefined variable '\(name)': pass --var \(name)=VALUE (\(hint))", file: file,
          line: lineNumber, column: column, key: name)
      }
    }
  }
}
