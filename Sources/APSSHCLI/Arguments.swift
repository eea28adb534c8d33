/// Argument-vector fixes applied before ArgumentParser sees the words, for compatibility with the
/// Python apssh (argparse): `-tc`, values stuck to short options (`-th1,h2`), and long options
/// abbreviated to an unambiguous prefix (`--raw` for `--raw-format`).
enum Arguments {
  /// Short options whose value is the next word.
  static let valuedShort: Set<Character> = ["t", "x", "l", "g", "I", "w", "c", "k", "f", "o", "i", "S"]

  /// Long options whose value is the next word.
  static let valuedLong: Set<String> = [
    "--target", "--exclude", "--login", "--gateway", "--inventory", "--window", "--connect-timeout", "--key",
    "--retries", "--command-timeout", "--known-hosts", "--format", "--out-dir", "--includes", "--scenario", "--var",
    "--graph", "--json-max-output", "--script-body",
  ]

  /// Every long option of apssh.
  static let apsshLong: [String] =
    Array(valuedLong) + [
      "--ok-if-no-key", "--strict-host-keys", "--no-host-key-check", "--time-colon-format", "--date-time",
      "--verbose", "--debug", "--no-progress", "--json", "--raw-format", "--list-targets", "--mark", "--dry-run",
      "--version", "--script", "--keep-scripts", "--fail-fast", "--max-rc", "--stdin", "--help",
    ]

  /// Every long option of appush and appull: no output formats or files (a copy prints no remote
  /// output), no scripts, no scenarios.
  static let copyLong: [String] =
    Array(
      valuedLong.subtracting([
        "--includes", "--scenario", "--var", "--graph", "--format", "--out-dir", "--json-max-output", "--script-body",
      ])) + [
      "--ok-if-no-key", "--strict-host-keys", "--no-host-key-check", "--verbose", "--debug", "--no-progress", "--json",
      "--recursive", "--preserve", "--dry-run", "--version", "--fail-fast", "--max-rc", "--help",
    ]

  /// The output options of apssh that appush and appull do not have (a copy prints no remote
  /// output): long name, short name.
  static let apsshOutputOnly: [(long: String, short: String?)] = [
    ("--out-dir", "-o"), ("--date-time", "-d"), ("--format", "-f"), ("--time-colon-format", "-tc"),
    ("--raw-format", nil), ("--json-max-output", nil),
  ]

  /// The message for an option of `words` (before `--`) that is one of apssh's output options,
  /// which `tool` (appush or appull) does not have; nil when there is none.
  static func copyRefusal(_ words: [String], tool: String) -> String? {
    for word in words {
      if word == "--" { break }
      guard word.hasPrefix("-"), word != "-" else { continue }
      var found: (long: String, short: String?)?
      if word.hasPrefix("--") {
        let name = String(expand(word, longOptions: apsshLong).split(separator: "=", maxSplits: 1)[0])
        let copy = String(expand(word, longOptions: copyLong).split(separator: "=", maxSplits: 1)[0])
        if !copyLong.contains(copy) { found = apsshOutputOnly.first { $0.long == name } }
      } else if word == "-tc" {
        found = apsshOutputOnly.first { $0.short == "-tc" }
      } else {
        let short = String(word.prefix(2))
        found = apsshOutputOnly.first { $0.short == short && (word.count == 2 || short != "-d") }
      }
      guard let found else { continue }
      let names = found.short.map { "\($0)/\(found.long)" } ?? found.long
      return "\(tool): \(names) is an output option of apssh, not of \(tool): a copy prints no remote output"
        + " (-v reports what it does, --json gives a record per host)"
    }
    return nil
  }

  /// Rewrites the option words (see the type's documentation); the words of the remote command,
  /// from the first non-option word or `--` on, are left alone. With `separateCommand`, the command
  /// words are put after a `--` so that ArgumentParser reads them as the remote command (and still
  /// rejects unknown options before them).
  static func normalize(_ words: [String], longOptions: [String], separateCommand: Bool = false) -> [String] {
    var result: [String] = []
    var index = 0
    while index < words.count {
      var word = words[index]
      if word == "--" || !word.hasPrefix("-") || word == "-" {
        if separateCommand && word != "--" { result.append("--") }
        result += words[index...]
        break
      }
      if word == "-tc" {
        word = "--time-colon-format"
      } else if word.hasPrefix("--") {
        word = expand(word, longOptions: longOptions)
      } else if word.count > 2, let letter = word.dropFirst().first, valuedShort.contains(letter) {
        result += ["-\(letter)", String(word.dropFirst(2))]
        index += 1
        continue
      }
      result.append(word)
      if valuedLong.contains(word) || (word.count == 2 && valuedShort.contains(word.last!)), index + 1 < words.count {
        result.append(words[index + 1])
        index += 1
      }
      index += 1
    }
    return result
  }

  /// `--raw` → `--raw-format` when exactly one long option starts with it (`--name=value` too).
  static func expand(_ word: String, longOptions: [String]) -> String {
    let parts = word.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
    let name = String(parts[0])
    guard !longOptions.contains(name) else { return word }
    let matches = longOptions.filter { $0.hasPrefix(name) }
    guard matches.count == 1 else { return word }
    return parts.count == 2 ? matches[0] + "=" + parts[1] : matches[0]
  }

  /// The remote command words without a leading `--` (reference §2.1 quirk).
  static func command(_ words: [String]) -> [String] {
    words.first == "--" ? Array(words.dropFirst()) : words
  }
}
