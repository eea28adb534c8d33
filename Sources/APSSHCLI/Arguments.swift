/// Argument-vector fixes applied before ArgumentParser sees the words.
enum Arguments {
  /// Options whose value is the next word (so that a value is never mistaken for an option).
  static let valued: Set<String> = [
    "-t", "--target", "-x", "--exclude", "-l", "--login", "-g", "--gateway", "-I", "--inventory", "-w", "--window",
    "-c", "--connect-timeout", "-k", "--key", "--retries", "--command-timeout", "--known-hosts", "-f", "--format",
    "-o", "--out-dir", "-i", "--includes", "-S", "--scenario", "--var", "--graph",
  ]

  /// Maps `-tc` to `--time-colon-format` among the options (ArgumentParser has no multi-letter short
  /// options); the words of the remote command, after the first non-option word or `--`, are left alone.
  /// With `separateCommand`, the command words are put after a `--` so that ArgumentParser reads
  /// them as the remote command (and still rejects unknown options before them).
  static func normalize(_ words: [String], separateCommand: Bool = false) -> [String] {
    var result: [String] = []
    var index = 0
    while index < words.count {
      let word = words[index]
      if word == "--" || !word.hasPrefix("-") || word == "-" {
        if separateCommand && word != "--" { result.append("--") }
        result += words[index...]
        break
      }
      result.append(word == "-tc" ? "--time-colon-format" : word)
      if valued.contains(word), index + 1 < words.count {
        result.append(words[index + 1])
        index += 1
      }
      index += 1
    }
    return result
  }

  /// The remote command words without a leading `--` (reference §2.1 quirk).
  static func command(_ words: [String]) -> [String] {
    words.first == "--" ? Array(words.dropFirst()) : words
  }
}
