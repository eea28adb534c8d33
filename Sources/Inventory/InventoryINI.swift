import Foundation

extension Inventory {
  /// Parses an inventory in the Ansible INI layout:
  ///
  /// ```ini
  /// bastion ansible_host=127.0.0.9       # before any section: group 'ungrouped'
  /// [web]
  /// node[01:04] ansible_user=root
  /// db1:2222 key=~/.ssh/db
  /// [web:vars]
  /// gateway=bastion
  /// [prod:children]
  /// web
  /// ```
  ///
  /// Lines starting with `#` or `;` are comments, and so is the rest of a line from a word that
  /// starts with `#`. Values may be quoted (`msg="two words"`).
  ///
  /// - Parameter path: the file name used in errors.
  /// - Throws: `InventoryError` with the file and line of the problem.
  public static func parse(ini text: String, path: String? = nil) throws -> Inventory {
    var inventory = Inventory(path: path)
    enum Section { case hosts(String), vars(String), children(String) }
    var section = Section.hosts(ungrouped)
    var lineNumber = 0
    for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
      lineNumber += 1
      let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
      if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
      func error(_ code: InventoryError.Code, _ message: String, key: String? = nil)
        -> InventoryError
      {
        InventoryError(code, message, file: path, line: lineNumber, key: key)
      }
      if line.hasPrefix("[") {
        guard line.hasSuffix("]") else {
          throw error(.badStructure, "a section header should be '[group]', with its ']'")
        }
        let header = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
        let parts = header.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard let name = parts.first, !name.isEmpty, parts.count <= 2 else {
          throw error(.badStructure, "bad section header '\(line)': use [group], [group:vars] or [group:children]")
        }
        inventory.addGroup(name)
        switch parts.count == 2 ? parts[1] : nil {
        case nil: section = .hosts(name)
        case "vars": section = .vars(name)
        case "children": section = .children(name)
        case let other?:
          throw error(
            .unknownKey, "unknown section kind ':\(other)' in '\(line)': use :vars or :children",
            key: other)
        }
        continue
      }
      let words: [String]
      do {
        words = try tokenize(line)
      } catch let message as TokenizeError {
        throw error(.badStructure, message.text)
      }
      guard let first = words.first else { continue }
      switch section {
      case let .hosts(group):
        var vars = try parseAssignments(words.dropFirst(), owner: "host '\(first)'", error: error)
        let target: Target
        do {
          target = try Target.parse(first)
        } catch let parseError as InventoryError {
          throw error(parseError.code, parseError.message, key: first)
        }
        if let port = target.port, vars["port"] == nil { vars["port"] = String(port) }
        if let user = target.user, vars["user"] == nil { vars["user"] = user }
        let names: [String]
        do {
          names = try HostRange.expand(target.hostname)
        } catch let rangeError as InventoryError {
          throw error(rangeError.code, rangeError.message, key: first)
        }
        for name in names { inventory.addHost(name, to: group, vars: canonicalized(vars)) }
      case let .vars(group):
        let vars = try parseAssignments(words[...], owner: "group '\(group)'", error: error)
        inventory.addVars(canonicalized(vars), to: group)
      case let .children(group):
        guard words.count == 1 else {
          throw error(.badStructure, "a [\(group):children] line should be one group name")
        }
        inventory.addChild(first, to: group)
      }
    }
    return try inventory.validated()
  }

  private static func parseAssignments(
    _ words: ArraySlice<String>, owner: String,
    error: (InventoryError.Code, String, String?) -> InventoryError
  ) throws -> [String: String] {
    var vars: [String: String] = [:]
    for word in words {
      guard let equal = word.firstIndex(of: "="), equal != word.startIndex else {
        throw error(.badStructure, "'\(word)' of \(owner) should be name=value", word)
      }
      let key = String(word[..<equal])
      let value = String(word[word.index(after: equal)...])
      guard vars[key] == nil else {
        throw error(.badStructure, "'\(key)' is set twice for \(owner): keep one", key)
      }
      do {
        try checkVariable(key, value, owner: owner)
      } catch let valueError as InventoryError {
        throw error(valueError.code, valueError.message, key)
      }
      vars[key] = value
    }
    return vars
  }

  private struct TokenizeError: Error {
    var text: String
  }

  /// Splits on blanks, honouring '…' and "…" quotes (removed); a word starting with `#` ends it.
  private static func tokenize(_ line: String) throws -> [String] {
    var words: [String] = []
    var current = ""
    var inWord = false
    var quote: Character?
    for char in line {
      if let open = quote {
        if char == open { quote = nil } else { current.append(char) }
        continue
      }
      if char.isWhitespace {
        if inWord { words.append(current) }
        current = ""
        inWord = false
        continue
      }
      if char == "#" && !inWord { break }
      inWord = true
      if char == "\"" || char == "'" { quote = char } else { current.append(char) }
    }
    if quote != nil { throw TokenizeError(text: "a quote is not closed") }
    if inWord { words.append(current) }
    return words
  }
}
