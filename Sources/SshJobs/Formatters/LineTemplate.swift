#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A parsed formatter template: literal text (with `strftime` directives) and placeholders.
///
/// Placeholders are substituted in the template only, never in the text they bring in, so remote
/// output cannot inject placeholders.
struct LineTemplate: Sendable {
  /// One piece of a template.
  enum Piece: Sendable, Equatable {
    /// Text, where `strftime` directives (`%H`…) are expanded at formatting time.
    case literal(String)
    /// The line without its newline.
    case line
    /// The line as received (with its newline, if any).
    case linenl
    /// A newline.
    case nl
    /// The full host name, padded on the right to the width of the longest registered one.
    case fqdn
    /// The short host name, padded on the right.
    case host
    /// The user name (without `@`), padded on the right.
    case user
  }

  /// The placeholders a template may hold (besides `strftime` directives).
  static let placeholders = ["{linenl}", "{line}", "{nl}", "{host}", "{fqdn}", "{user}", "{time}"]

  /// The pieces, in order.
  let pieces: [Piece]

  /// Parses `format`: `{time}` stands for `%H-%M-%S`; `{line}`, `{linenl}`, `{nl}`, `{fqdn}`,
  /// `{host}` and `{user}` are placeholders; anything else is literal (see
  /// ``unknownPlaceholders(in:)`` to refuse mistyped ones).
  init(_ format: String) {
    let names: [(String, Piece)] = [
      ("{linenl}", .linenl), ("{line}", .line), ("{nl}", .nl), ("{fqdn}", .fqdn), ("{host}", .host),
      ("{user}", .user), ("{time}", .literal("%H-%M-%S")),
    ]
    var pieces: [Piece] = []
    var literal = ""
    var rest = Substring(format)
    outer: while !rest.isEmpty {
      if rest.first == "{" {
        for (name, piece) in names where rest.hasPrefix(name) {
          if case .literal(let text) = piece {
            literal += text
          } else {
            if !literal.isEmpty { pieces.append(.literal(literal)) }
            literal = ""
            pieces.append(piece)
          }
          rest = rest.dropFirst(name.count)
          continue outer
        }
      }
      literal.append(rest.removeFirst())
    }
    if !literal.isEmpty { pieces.append(.literal(literal)) }
    self.pieces = pieces
  }

  /// The names in braces of `format` (`{nosuch}`: a letter or `_`, then letters, digits, `_` or
  /// `-`) that are not placeholders, in order, each once; other braces (`{`, `{ }`, `{{`, `{1}`)
  /// are literal text.
  static func unknownPlaceholders(in format: String) -> [String] {
    var unknown: [String] = []
    var rest = Substring(format)
    while let open = rest.firstIndex(of: "{") {
      let after = rest[rest.index(after: open)...]
      let word = after.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
      if let first = word.first, first.isLetter || first == "_", word.endIndex < after.endIndex,
        after[word.endIndex] == "}"
      {
        let name = "{" + word + "}"
        if !placeholders.contains(name) && !unknown.contains(name) { unknown.append(name) }
        rest = after[after.index(after: word.endIndex)...]
      } else {
        rest = after
      }
    }
    return unknown
  }

  /// Whether the template shows the line's text (`{line}` or `{linenl}`).
  var showsLine: Bool { pieces.contains { $0 == .line || $0 == .linenl } }

  /// Whether some literal needs `strftime`.
  var usesTime: Bool {
    pieces.contains { if case .literal(let text) = $0 { return text.contains("%") } else { return false } }
  }
}

/// A template resolved for one origin at one moment: constant bytes and line slots.
struct ResolvedTemplate: Sendable {
  enum Part: Sendable {
    case bytes([UInt8])
    case line
    case linenl
  }
  let parts: [Part]

  /// The constant prefix when the template is `prefix + {linenl}` (the common, fast case).
  let simplePrefix: [UInt8]?
  /// Whether a line that comes without its newline (the last one of a command, or a piece of an
  /// over-long line) gets one: true unless the template is `{linenl}` alone, which passes the bytes
  /// exactly as they came (raw output, files, JSON).
  let terminatesLines: Bool

  init(parts input: [Part]) {
    var merged: [Part] = []
    for part in input {
      if case .bytes(let more) = part, case .bytes(let previous)? = merged.last {
        merged[merged.count - 1] = .bytes(previous + more)
      } else if case .bytes(let bytes) = part, bytes.isEmpty {
        continue
      } else {
        merged.append(part)
      }
    }
    parts = merged
    switch merged.count {
    case 1: if case .linenl = merged[0] { simplePrefix = [] } else { simplePrefix = nil }
    case 2:
      if case .bytes(let prefix) = merged[0], case .linenl = merged[1] {
        simplePrefix = prefix
      } else {
        simplePrefix = nil
      }
    default: simplePrefix = nil
    }
    terminatesLines = simplePrefix.map { !$0.isEmpty } ?? true
  }

  /// Appends the formatted form of every line of `bytes` to `output`.
  func render(_ bytes: ArraySlice<UInt8>, into output: inout [UInt8]) {
    bytes.withUnsafeBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return }
      let count = buffer.count
      var start = 0
      while start < count {
        let found = memchr(base + start, 0x0A, count - start)
        let end = found.map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - base + 1 } ?? count
        let line = UnsafeBufferPointer(rebasing: buffer[start..<end])
        if let prefix = simplePrefix {
          output.append(contentsOf: prefix)
          output.append(contentsOf: line)
          if found == nil && terminatesLines { output.append(0x0A) }
        } else {
          let bare = found == nil ? line : UnsafeBufferPointer(rebasing: line.dropLast())
          for part in parts {
            switch part {
            case .bytes(let constant): output.append(contentsOf: constant)
            case .line: output.append(contentsOf: bare)
            case .linenl:
              output.append(contentsOf: line)
              if found == nil && terminatesLines { output.append(0x0A) }
            }
          }
        }
        start = end
      }
    }
  }
}

/// `text` padded on the right with spaces to `width` characters (Python's `f"{text:<{width}}"`), so
/// that a line still starts with the name (`grep '^host'`); the reference centred it.
func padded(_ text: String, width: Int) -> String {
  let missing = width - text.count
  guard missing > 0 else { return text }
  return text + String(repeating: " ", count: missing)
}

/// `strftime(format)` for the current local time.
func formatTime(_ format: String, at time: time_t) -> String {
  var seconds = time
  var parts = tm()
  localtime_r(&seconds, &parts)
  var buffer = [CChar](repeating: 0, count: 256 + format.utf8.count * 4)
  let length = strftime(&buffer, buffer.count, format, &parts)
  if length == 0 && !format.isEmpty { return format }
  return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
