import Foundation

/// Parses human durations: `"30"` and `"1.5"` (seconds), `"200ms"`, `"1.5s"`, `"2m"`, `"1h"`,
/// `"1d"`, `"us"` for microseconds, and sums such as `"1m30s"`. Shared by scenario files and the
/// CLI's `--command-timeout`.
public enum DurationParser {
  private static let units: [(suffix: String, nanoseconds: Double)] = [
    ("ms", 1e6), ("us", 1e3), ("ns", 1), ("s", 1e9), ("m", 60e9), ("h", 3600e9), ("d", 86400e9),
  ]

  /// The duration `text` stands for.
  ///
  /// - Throws: `InventoryError` `.badDuration` for an empty, negative or malformed duration.
  public static func parse(_ text: String) throws -> Duration {
    let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
    func failure() -> InventoryError {
      InventoryError(
        .badDuration,
        "bad duration '\(text)': write seconds (30, 1.5) or a number with a unit: 200ms, 1.5s, 2m, 1h")
    }
    guard !trimmed.isEmpty else { throw failure() }
    if let seconds = Double(trimmed) {
      guard seconds >= 0, seconds.isFinite, seconds * 1e9 < Double(Int64.max) else { throw failure() }
      return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }
    var total = 0.0
    var rest = Substring(trimmed)
    while !rest.isEmpty {
      let number = rest.prefix { $0.isNumber || $0 == "." }
      rest = rest.dropFirst(number.count)
      let unitText = rest.prefix { $0.isLetter }
      rest = rest.dropFirst(unitText.count)
      guard let value = Double(number), value >= 0,
        let unit = units.first(where: { $0.suffix == unitText })
      else { throw failure() }
      total += value * unit.nanoseconds
    }
    guard total.isFinite, total < Double(Int64.max) else { throw failure() }
    return .nanoseconds(Int64(total.rounded()))
  }
}

extension DurationParser {
  /// A time limit: a duration above zero (a limit of 0 would stop everything at once, which no
  /// one means).
  ///
  /// - Throws: `InventoryError` `.badDuration` for a malformed or zero duration.
  public static func parseTimeLimit(_ text: String) throws -> Duration {
    let duration = try parse(text)
    guard duration > .zero else {
      throw InventoryError(
        .badDuration,
        "a time limit of '\(text)' would stop everything at once: give a duration above 0, or leave the limit out")
    }
    return duration
  }
}

extension Duration {
  /// The duration `text` stands for (see `DurationParser`), or `nil`.
  public init?(parsing text: String) {
    guard let duration = try? DurationParser.parse(text) else { return nil }
    self = duration
  }

  /// The duration in seconds, as a `Double`.
  public var inSeconds: Double {
    let (seconds, attoseconds) = components
    return Double(seconds) + Double(attoseconds) / 1e18
  }
}
