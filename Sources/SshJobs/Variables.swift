import Synchronization

/// Named values set while a scenario runs (typically by `Capture`) and expanded in later commands,
/// where `{{ name }}` stands for the value of `name`, shell-quoted (see ``Template``).
///
/// Listings made before a run show placeholders as they are; a command that runs with a
/// placeholder whose variable has no value fails. Thread-safe.
public final class Variables: Sendable {
  private let values: Mutex<[String: String]>

  /// Creates a set of variables.
  public init(_ values: [String: String] = [:]) {
    self.values = Mutex(values)
  }

  /// The value of `name`, or nil; setting nil removes it.
  public subscript(name: String) -> String? {
    get { values.withLock { $0[name] } }
    set { values.withLock { $0[name] = newValue } }
  }

  /// A snapshot of every variable.
  public var all: [String: String] { values.withLock { $0 } }

  /// `text` as a ``Template`` with the values known now: shell-quoted when `quoting` (see
  /// ``Template``), placeholders of names without a value left as they are. Text that is not a
  /// valid template is returned unchanged (for listings made before a run).
  public func render(_ text: String, quoting: Bool = true) -> String {
    guard text.contains("{{"), let template = try? Template(parsing: text) else { return text }
    let snapshot = all
    return template.render(quoting: quoting) { snapshot[$0] }
  }

  /// `text` as a ``Template`` with every placeholder replaced, for a command about to run.
  /// - Throws: `TemplateError` for a bad template, `UndefinedVariableError` for a name without a
  ///   value (its capture has not run).
  public func resolve(_ text: String, quoting: Bool = true) throws -> String {
    guard text.contains("{{") else { return text }
    let template = try Template(parsing: text)
    let snapshot = all
    if let missing = template.variableNames.first(where: { snapshot[$0] == nil }) {
      throw UndefinedVariableError(name: missing, known: snapshot.keys.sorted())
    }
    return template.render(quoting: quoting) { snapshot[$0] }
  }
}

/// A `{{ name }}` whose variable has no value when its command runs (the command that captures
/// it did not run, or failed).
public struct UndefinedVariableError: Error, Sendable, CustomStringConvertible {
  /// The variable.
  public let name: String
  /// The variables that have a value.
  public let known: [String]

  /// `{{ name }} has no value: …`.
  public var description: String {
    "{{ \(name) }} has no value: the command that captures it has not run"
      + (known.isEmpty ? "" : " (set: \(known.joined(separator: ", ")))")
  }
}

extension Substring {
  func trimmingCharacters(in characters: String) -> String {
    let set = Set(characters)
    var slice = self[...]
    while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
    while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
    return String(slice)
  }
}

/// Where a command's stdout goes instead of the formatter: the variable `name` of `variables`
/// (one trailing newline removed). Per command, so concurrent jobs on one node never mix captures.
public struct Capture: Sendable {
  /// The variable to set.
  public let name: String
  /// The variables holding it.
  public let variables: Variables

  /// Captures into `variables[name]`.
  public init(_ name: String, in variables: Variables) {
    self.name = name
    self.variables = variables
  }

  /// Stores captured bytes: decoded as UTF-8, one trailing `\n` removed.
  func store(_ bytes: [UInt8]) {
    var text = String(decoding: bytes, as: UTF8.self)
    if text.hasSuffix("\n") { text.removeLast() }
    variables[name] = text
  }
}
