extension HostRange {
  /// Host names folded into range patterns, the inverse of ``expand(_:)``: `node1 node2 node3
  /// node7` → `node[1-3,7]`, `127.0.0.2 127.0.0.3` → `127.0.0.[2-3]`, `n01 n02` → `n[01-02]`.
  ///
  /// Names are grouped by what surrounds their last number (and by its zero padding); each group
  /// becomes one pattern, groups in the order of their first name. Names without digits, or that
  /// hold brackets, stay as they are; a group of one is the name itself. `expand` of each pattern
  /// gives back the names of its group, sorted by number and without duplicates.
  public static func fold(_ names: [String]) -> [String] {
    struct Key: Hashable {
      var prefix: Substring
      var suffix: Substring
      var width: Int
    }
    var order: [Key] = []
    var numbers: [Key: Set<Int>] = [:]
    var results: [(key: Key?, literal: String)] = []
    var placed = Set<Key>()
    for name in names {
      guard !isPattern(name), let digits = lastNumber(in: name), let value = Int(name[digits]), value >= 0 else {
        if !results.contains(where: { $0.key == nil && $0.literal == name }) { results.append((nil, name)) }
        continue
      }
      let text = name[digits]
      let width = text.count > 1 && text.hasPrefix("0") ? text.count : 0
      let key = Key(prefix: name[..<digits.lowerBound], suffix: name[digits.upperBound...], width: width)
      numbers[key, default: []].insert(value)
      if placed.insert(key).inserted {
        order.append(key)
        results.append((key, ""))
      }
    }
    return results.map { entry in
      guard let key = entry.key, let values = numbers[key] else { return entry.literal }
      let sorted = values.sorted()
      func padded(_ value: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, key.width - digits.count)) + digits
      }
      if sorted.count == 1 { return String(key.prefix) + padded(sorted[0]) + String(key.suffix) }
      var items: [String] = []
      var start = sorted[0]
      var end = start
      for value in sorted.dropFirst() {
        if value == end + 1 {
          end = value
          continue
        }
        items.append(start == end ? padded(start) : "\(padded(start))-\(padded(end))")
        start = value
        end = value
      }
      items.append(start == end ? padded(start) : "\(padded(start))-\(padded(end))")
      return "\(key.prefix)[\(items.joined(separator: ","))]\(key.suffix)"
    }
  }

  /// The range of the last run of ASCII digits in `name`.
  private static func lastNumber(in name: String) -> Range<String.Index>? {
    guard let last = name.lastIndex(where: { $0.isASCII && $0.isNumber }) else { return nil }
    var start = last
    while start > name.startIndex {
      let previous = name.index(before: start)
      guard name[previous].isASCII && name[previous].isNumber else { break }
      start = previous
    }
    let end = name.index(after: last)
    // Keep numbers small enough to expand again (and to fit an Int).
    return name.distance(from: start, to: end) <= 9 ? start..<end : nil
  }
}
