/// Limits a YAML document must respect before it is parsed: its size, how deep it nests, and how
/// much its aliases expand.
///
/// A document nested a few thousand levels deep overflowed the stack (a crash), and nine levels of
/// nine aliases ("billion laughs") ran for minutes and gigabytes. Inventories and scenarios need
/// neither, so the text is checked first, in one pass over its lines: nesting counts block
/// indentation, `- ` entries and flow brackets; each alias weighs what its anchor holds, aliases
/// inside included. Block scalars (`|`, `>`) and quoted text are skipped.
enum YAMLLimits {
  /// The largest document, in bytes.
  static let maximumBytes = 8 << 20
  /// The deepest nesting.
  static let maximumDepth = 100
  /// The most nodes aliases may stand for, in the whole document.
  static let maximumAliasExpansion = 10_000

  /// Checks `text`; throws `InventoryError` `.badYAML` naming the line of the first excess.
  static func check(_ text: String, file: String?) throws {
    guard text.utf8.count <= maximumBytes else {
      throw InventoryError(
        .badYAML, "the file is larger than \(maximumBytes >> 20) MiB: inventories and scenarios are much smaller",
        file: file)
    }
    var indents: [Int] = []  // block indentation of the enclosing nodes
    var flowDepth = 0
    var blockScalarIndent: Int?  // lines more indented than this belong to a `|` or `>` scalar
    var anchors: [String: Int] = [:]  // anchor name → the nodes it stands for
    var openAnchors: [(name: String, indent: Int, weight: Int, block: Bool)] = []
    var expansion = 0
    var lineNumber = 0
    // `\r\n` is one Character: split on every kind of line end, as YAML does.
    for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
      lineNumber += 1
      let indent = line.prefix { $0 == " " }.count
      let content = line.dropFirst(indent)
      if content.isEmpty || content.first == "#" { continue }
      if let scalarIndent = blockScalarIndent {
        if indent > scalarIndent { continue }
        blockScalarIndent = nil
      }
      if flowDepth == 0 {
        while let last = indents.last, last >= indent { indents.removeLast() }
        indents.append(indent)
        // Anchors whose block ends here weigh what they hold from now on.
        while let open = openAnchors.last, open.block, open.indent >= indent {
          anchors[open.name] = open.weight
          openAnchors.removeLast()
        }
      }
      var depth = indents.count + flowDepth
      let scan = Array(content.utf8)
      var index = 0
      var tokenStart = true
      func fail(_ message: String) -> InventoryError {
        InventoryError(.badYAML, message, file: file, line: lineNumber, column: indent + index + 1)
      }
      while index < scan.count {
        let byte = scan[index]
        switch byte {
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
          // Quoted text, to its closing quote on this line (`''` and `\"` escape it).
          index += 1
          while index < scan.count {
            if scan[index] == UInt8(ascii: "\\") && byte == UInt8(ascii: "\"") {
              index += 2
              continue
            }
            if scan[index] == byte {
              if byte == UInt8(ascii: "'") && index + 1 < scan.count && scan[index + 1] == byte {
                index += 2
                continue
              }
              break
            }
            index += 1
          }
          tokenStart = false
        case UInt8(ascii: "#") where index == 0 || scan[index - 1] == UInt8(ascii: " "):
          index = scan.count
          continue
        case UInt8(ascii: "["), UInt8(ascii: "{"):
          flowDepth += 1
          depth += 1
          tokenStart = true
        case UInt8(ascii: "]"), UInt8(ascii: "}"):
          flowDepth = max(0, flowDepth - 1)
          tokenStart = false
        case UInt8(ascii: ","):
          tokenStart = true
        case UInt8(ascii: "-") where tokenStart && (index + 1 == scan.count || scan[index + 1] == UInt8(ascii: " ")):
          depth += 1
        case UInt8(ascii: ":") where index + 1 == scan.count || scan[index + 1] == UInt8(ascii: " "):
          tokenStart = true
          let rest = scan[(index + 1)...].drop { $0 == UInt8(ascii: " ") }
          if let first = rest.first, first == UInt8(ascii: "|") || first == UInt8(ascii: ">") {
            blockScalarIndent = indent
            index = scan.count
            continue
          }
        case UInt8(ascii: "&") where tokenStart, UInt8(ascii: "*") where tokenStart:
          var end = index + 1
          while end < scan.count, !Self.ends(scan[end]) { end += 1 }
          let name = String(decoding: scan[(index + 1)..<end], as: UTF8.self)
          if byte == UInt8(ascii: "&") {
            // An anchor with nothing after it on its line holds the block below it.
            let rest = scan[end...].drop { $0 == UInt8(ascii: " ") }
            let block = rest.isEmpty || rest.first == UInt8(ascii: "#")
            openAnchors.append((name, indent, 1, block))
            anchors[name] = 1
          } else {
            let weight = anchors[name] ?? 1
            expansion += weight
            for position in openAnchors.indices { openAnchors[position].weight += weight }
            if expansion > maximumAliasExpansion {
              throw fail(
                "the aliases of this file stand for more than \(maximumAliasExpansion) values (a YAML alias bomb?): "
                  + "write the values out, or use fewer nested aliases")
            }
          }
          index = end
          continue
        case UInt8(ascii: " "):
          break
        default:
          tokenStart = false
        }
        if depth > maximumDepth {
          throw fail("this file nests more than \(maximumDepth) levels deep: inventories and scenarios need far fewer")
        }
        index += 1
      }
      if depth > maximumDepth {
        throw fail("this file nests more than \(maximumDepth) levels deep: inventories and scenarios need far fewer")
      }
      // An anchor on a value of this line closes with the line (once its flow is closed).
      if flowDepth == 0 {
        while let open = openAnchors.last, !open.block {
          anchors[open.name] = open.weight
          openAnchors.removeLast()
        }
      }
    }
  }

  /// Whether `byte` ends an anchor or alias name.
  private static func ends(_ byte: UInt8) -> Bool {
    [
      UInt8(ascii: " "), UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: "["), UInt8(ascii: "{"),
      0x09,
    ]
    .contains(byte)
  }
}
