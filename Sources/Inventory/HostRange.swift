import Foundation

/// Host range expansion, in the ClusterShell / pdsh and Ansible spellings.
///
/// - `node[01-16]` → `node01` … `node16` (the zero padding of the start is kept);
/// - `node[1-4,7]` → `node1` … `node4`, `node7` (comma-separated items);
/// - `10.0.0.[1:8]`, `www[01:50:2]` → Ansible `[start:end]` and `[start:end:step]`;
/// - `rack[a-c]` / `rack[a:c]` → letters;
/// - several brackets in one name make the cartesian product, first bracket slowest:
///   `r[1-2]n[1-2]` → `r1n1 r1n2 r2n1 r2n2`.
public enum HostRange {
  /// The largest number of names one pattern may expand to.
  public static let maximumHosts = 100_000

  /// Whether `pattern` has a bracket, i.e. whether `expand(_:)` could give more than itself.
  public static func isPattern(_ pattern: String) -> Bool {
    pattern.contains("[") || pattern.contains("]")
  }

  /// Expands `pattern` into the host names it stands for, in order; a name without brackets
  /// expands to itself.
  ///
  /// - Throws: `InventoryError` with code `.badRange` for an unbalanced bracket, an empty or
  ///   malformed item, a reversed range (`[5-1]`), a zero step, more than `maximumHosts` names,
  ///   or an IPv4 address range that goes past 255 (`10.0.0.[250-260]`).
  public static func expand(_ pattern: String) throws -> [String] {
    // Split into literal parts and bracket contents.
    var literals: [String] = []
    var ranges: [[String]] = []
    var current = ""
    var index = pattern.startIndex
    while index < pattern.endIndex {
      let char = pattern[index]
      if char == "]" {
        throw rangeError(pattern, "a ']' without its '['")
      }
      if char == "[" {
        guard let close = pattern[index...].firstIndex(of: "]") else {
          throw rangeError(pattern, "a '[' without its ']'")
        }
        let inside = pattern[pattern.index(after: index)..<close]
        if inside.contains("[") {
          throw rangeError(pattern, "brackets cannot be nested")
        }
        literals.append(current)
        current = ""
        ranges.append(try expandBracket(String(inside), pattern: pattern))
        index = pattern.index(after: close)
        continue
      }
      current.append(char)
      index = pattern.index(after: index)
    }
    literals.append(current)
    if ranges.isEmpty { return [pattern] }

    var total = 1
    for values in ranges {
      let (product, overflow) = total.multipliedReportingOverflow(by: values.count)
      if overflow || product > maximumHosts {
        throw rangeError(pattern, "expands to more than \(maximumHosts) hosts; split it")
      }
      total = product
    }
    var names = [literals[0]]
    for (position, values) in ranges.enumerated() {
      let suffix = literals[position + 1]
      var next: [String] = []
      next.reserveCapacity(names.count * values.count)
      for prefix in names {
        for value in values { next.append(prefix + value + suffix) }
      }
      names = next
    }
    if literals.allSatisfy({ $0.allSatisfy { $0 == "." || $0.isASCII && $0.isNumber } }) {
      for name in names where !isPlausibleIPv4(name) {
        throw rangeError(pattern, "it makes '\(name)', which is not an IPv4 address (each number is 0 to 255)")
      }
    }
    return names
  }

  /// `false` for a dotted quad of numbers with one above 255 (`127.0.0.256`); `true` for any other
  /// name, which may be a host name.
  static func isPlausibleIPv4(_ name: String) -> Bool {
    let parts = name.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 4, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } })
    else { return true }
    return parts.allSatisfy { part in part.count <= 3 && Int(part)! <= 255 }
  }

  private static func expandBracket(_ inside: String, pattern: String) throws -> [String] {
    let items = inside.split(separator: ",", omittingEmptySubsequences: false)
    var values: [String] = []
    for rawItem in items {
      let item = rawItem.trimmingCharacters(in: .whitespaces)
      if item.isEmpty {
        throw rangeError(pattern, "an empty item in '[\(inside)]'")
      }
      let bounds: [Substring]
      if item.contains(":") {
        bounds = item.split(separator: ":", omittingEmptySubsequences: false)
        guard bounds.count == 2 || bounds.count == 3 else {
          throw rangeError(pattern, "'\(item)' should be start:end or start:end:step")
        }
      } else if item.contains("-") {
        bounds = item.split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 2 else {
          throw rangeError(pattern, "'\(item)' should be start-end")
        }
      } else {
        bounds = [Substring(item)]
      }
      if bounds.count == 1 {
        values.append(item)
        continue
      }
      var step = 1
      if bounds.count == 3 {
        guard let parsed = Int(bounds[2]), parsed > 0 else {
          throw rangeError(pattern, "the step '\(bounds[2])' should be a positive integer")
        }
        step = parsed
      }
      values += try expandItem(String(bounds[0]), String(bounds[1]), step: step, pattern: pattern)
      if values.count > maximumHosts {
        throw rangeError(pattern, "expands to more than \(maximumHosts) hosts; split it")
      }
    }
    return values
  }

  private static func expandItem(_ start: String, _ end: String, step: Int, pattern: String)
    throws -> [String]
  {
    if let low = Int(start), let high = Int(end), start.allSatisfy(\.isASCII),
      end.allSatisfy(\.isASCII), low >= 0
    {
      guard low <= high else {
        throw rangeError(pattern, "the range \(start)-\(end) is reversed; write it \(end)-\(start)")
      }
      guard (high - low) / step < maximumHosts else {
        throw rangeError(pattern, "expands to more than \(maximumHosts) hosts; split it")
      }
      let width = start.count > 1 && start.hasPrefix("0") ? start.count : 0
      return stride(from: low, through: high, by: step).map { number in
        let digits = String(number)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
      }
    }
    if start.count == 1, end.count == 1, let low = start.unicodeScalars.first,
      let high = end.unicodeScalars.first,
      (("a"..."z").contains(low) && ("a"..."z").contains(high))
        || (("A"..."Z").contains(low) && ("A"..."Z").contains(high))
    {
      guard low.value <= high.value else {
        throw rangeError(pattern, "the range \(start)-\(end) is reversed; write it \(end)-\(start)")
      }
      return stride(from: low.value, through: high.value, by: step).compactMap { value in
        Unicode.Scalar(value).map { String(Character($0)) }
      }
    }
    throw rangeError(
      pattern,
      "'\(start)' to '\(end)' is not a range: use two numbers (01-16, 1:8) or two letters (a-c)")
  }

  private static func rangeError(_ pattern: String, _ what: String) -> InventoryError {
    InventoryError(.badRange, "bad host range '\(pattern)': \(what)")
  }
}
