/// Text with `{{ name }}` placeholders: the one substitution syntax of apssh-swift, used for
/// scenario `--var` values (at load time) and captured outputs (at run time).
///
/// - `{{ name }}` stands for the value of `name` (letters, digits and `_`, not starting with a
///   digit). In a command line the value is quoted for a POSIX shell when it needs it
///   (`it's` → `'it'"'"'s'`, `a b` → `'a b'`, `abc` stays `abc`), so that a value is always one word
///   and never runs as code;
/// - `{{ name | raw }}` inserts the value as it is (it may then hold several words, or shell code);
/// - `{{ '{{' }}` (or `{{ "…" }}`) inserts the quoted text literally: the way to write braces.
///
/// Anything else between `{{` and `}}`, and a `{{` without its `}}`, is an error that says where.
public struct Template: Sendable, Hashable, CustomStringConvertible {
  /// A part of a template.
  public enum Piece: Sendable, Hashable {
    /// Literal text.
    case text(String)
    /// A placeholder: the variable's name, and whether its value goes in unquoted.
    case variable(String, raw: Bool)
  }

  /// The parts, in order.
  public let pieces: [Piece]
  /// The text the template was parsed from.
  public let source: String

  /// Parses `text`.
  /// - Throws: `TemplateError` for a `{{` without `}}` or a placeholder that is neither a name,
  ///   `name | raw`, nor a quoted string.
  public init(parsing text: String) throws(TemplateError) {
    source = text
    var pieces: [Piece] = []
    var literal = ""
    var rest = Substring(text)
    while let open = rest.range(of: "{{") {
      literal += rest[..<open.lowerBound]
      let inside = rest[open.upperBound...]
      guard let close = inside.range(of: "}}") else {
        throw TemplateError(
          "a '{{' without its '}}' (write {{ '{{' }} for literal braces)", in: text, at: open.lowerBound)
      }
      let expression = inside[..<close.lowerBound].trimmingCharacters(in: " \t")
      switch Self.placeholder(expression) {
      case .text(let text):
        literal += text
      case .variable(let name, let raw):
        if !literal.isEmpty { pieces.append(.text(literal)) }
        literal = ""
        pieces.append(.variable(name, raw: raw))
      case nil:
        throw TemplateError(
          "'{{ \(expression) }}' is not a placeholder: write {{ name }}, {{ name | raw }}, or {{ '{{' }} for literal braces",
          in: text, at: open.lowerBound)
      }
      rest = inside[close.upperBound...]
    }
    literal += rest
    if !literal.isEmpty { pieces.append(.text(literal)) }
    self.pieces = pieces
  }

  /// The names of the variables, in order of first use.
  public var variableNames: [String] {
    var names: [String] = []
    for case .variable(let name, _) in pieces where !names.contains(name) { names.append(name) }
    return names
  }

  /// Whether the template has no placeholder.
  public var isLiteral: Bool { variableNames.isEmpty }

  /// The text with the values of `lookup`; values are shell-quoted (see the type's documentation)
  /// when `quoting`, except in `raw` placeholders. A name `lookup` does not know stays a
  /// placeholder, as written by ``description`` (`{{ name }}`).
  public func render(quoting: Bool, _ lookup: (String) -> String?) -> String {
    var result = ""
    for piece in pieces {
      switch piece {
      case .text(let text):
        result += text
      case .variable(let name, let raw):
        if let value = lookup(name) {
          result += quoting && !raw ? ShellQuoting.quote(value) : value
        } else {
          result += Self.placeholderText(name, raw: raw)
        }
      }
    }
    return result
  }

  /// The text with the placeholders of unknown names left in (a template again), literal braces
  /// written back as `{{ '{{' }}` so that the result parses to the same text.
  public func partiallyRendered(quoting: Bool, _ lookup: (String) -> String?) -> String {
    var result = ""
    for piece in pieces {
      switch piece {
      case .text(let text):
        result += text.replacingOccurrences(of: "{{", with: "{{ '{{' }}")
      case .variable(let name, let raw):
        if let value = lookup(name) {
          let inserted = quoting && !raw ? ShellQuoting.quote(value) : value
          result += inserted.replacingOccurrences(of: "{{", with: "{{ '{{' }}")
        } else {
          result += Self.placeholderText(name, raw: raw)
        }
      }
    }
    return result
  }

  /// The template as written: literal text, and `{{ name }}` / `{{ name | raw }}`.
  public var description: String {
    pieces.map { piece in
      switch piece {
      case .text(let text): return text
      case .variable(let name, let raw): return Self.placeholderText(name, raw: raw)
      }
    }.joined()
  }

  private static func placeholderText(_ name: String, raw: Bool) -> String {
    raw ? "{{ \(name) | raw }}" : "{{ \(name) }}"
  }

  /// What a placeholder's expression means: a variable, a literal text, or nothing valid.
  private static func placeholder(_ expression: String) -> Piece? {
    if let first = expression.first, first == "'" || first == "\"", expression.count >= 2, expression.last == first {
      let inner = expression.dropFirst().dropLast()
      guard !inner.contains(first) else { return nil }
      return .text(String(inner))
    }
    let parts = expression.split(separator: "|", maxSplits: 1).map { $0.trimmingCharacters(in: " \t") }
    guard let name = parts.first, isName(name) else { return nil }
    if parts.count == 1 { return .variable(name, raw: false) }
    switch parts[1] {
    case "raw": return .variable(name, raw: true)
    case "quote": return .variable(name, raw: false)
    default: return nil
    }
  }

  /// Whether `text` is a variable name: letters, digits and `_`, not starting with a digit.
  public static func isName(_ text: String) -> Bool {
    guard let first = text.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else {
      return false
    }
    return text.unicodeScalars.allSatisfy {
      $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)))
    }
  }
}

/// A template that could not be parsed: what is wrong, and where (1-based line and column in
/// the template's text).
public struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
  /// What is wrong.
  public let message: String
  /// The line of the problem in the template's text, from 1.
  public let line: Int
  /// The column of the problem, from 1.
  public let column: Int

  init(_ message: String, in text: String, at index: String.Index) {
    self.message = message
    let before = text[..<index]
    line = before.reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
    column =
      before.count - (before.lastIndex(of: "\n").map { before.distance(from: before.startIndex, to: $0) + 1 } ?? 0) + 1
  }

  /// `line L, column C: message`.
  public var description: String { "line \(line), column \(column): \(message)" }
}

/// Quoting for a POSIX shell (`sh`, `bash`, `zsh`, `ksh`), as Python's `shlex.quote` does.
public enum ShellQuoting {
  /// `text` as one shell word: unchanged when made only of letters, digits and `@%+=:,./-_`,
  /// else between single quotes (a `'` written `'"'"'`); `''` for the empty string.
  public static func quote(_ text: String) -> String {
    if text.isEmpty { return "''" }
    if text.unicodeScalars.allSatisfy(isSafe) { return text }
    return "'" + text.replacingOccurrences(of: "'", with: #"'"'"'"#) + "'"
  }

  private static func isSafe(_ scalar: Unicode.Scalar) -> Bool {
    guard scalar.isASCII else { return false }
    return ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
      || "@%+=:,./-_".unicodeScalars.contains(scalar)
  }
}

extension String {
  fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
    guard contains(target) else { return self }
    return split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
  }
}
