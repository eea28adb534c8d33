import Synchronization

/// Named values set while a scenario runs (typically by `Capture`) and expanded in later commands,
/// where `{{name}}` (or `{{ name }}`) stands for the value of `name`.
///
/// Placeholders of undefined variables are left as they are, so listings made before a run show
/// them. Thread-safe.
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

  /// `template` with every `{{name}}` of a defined variable replaced by its value. Replacement text
  /// is not scanned again.
  public func render(_ template: String) -> String {
    guard template.contains("{{") else { return template }
    let snapshot = all
    var result = ""
    var rest = Substring(template)
    while let open = rest.range(of: "{{") {
      result += rest[..<open.lowerBound]
      let after = rest[open.upperBound...]
      guard let close = after.range(of: "}}") else {
        result += rest[open.lowerBound...]
        return result
      }
      let name = after[..<close.lowerBound].trimmingCharacters(in: " \t")
      if let value = snapshot[name] {
        result += value
      } else {
        result += rest[open.lowerBound..<close.upperBound]
      }
      rest = after[close.upperBound...]
    }
    return result + rest
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
