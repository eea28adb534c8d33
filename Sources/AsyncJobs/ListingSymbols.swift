#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The symbols of the 4-slot job badge in listings: Unicode (`⚠ ★ ☉ ☓ ↺ ⚑ ⚐ ∞`) or an ASCII fallback
/// (`! :( :) x o . > 8`).
public enum ListingSymbols: Sendable {
  /// `⚠` critical, `★` raised, `☉` ran, `☓` done, `↺` running, `⚑` scheduled, `⚐` idle, `∞` forever.
  case unicode
  /// `!` critical, `:(` raised, `:)` ran, `x` done, `o` running, `.` scheduled, `>` idle, `8` forever.
  case ascii

  /// Unicode when the locale is UTF-8: the first non-empty of `LC_ALL`, `LC_CTYPE`, `LANG` contains
  /// `UTF-8` or `utf8` (any case); ASCII otherwise.
  public static var current: ListingSymbols {
    for name in ["LC_ALL", "LC_CTYPE", "LANG"] {
      guard let raw = getenv(name) else { continue }
      let value = String(cString: raw).lowercased()
      if value.isEmpty { continue }
      return value.contains("utf-8") || value.contains("utf8") ? .unicode : .ascii
    }
    return .ascii
  }

  var critical: String { self == .unicode ? "⚠" : "!" }
  var raised: String { self == .unicode ? "★" : ":(" }
  var ran: String { self == .unicode ? "☉" : ":)" }
  var nothing: String { self == .unicode ? " " : "  " }
  var forever: String { self == .unicode ? "∞" : "8" }

  func state(_ status: JobStatus) -> String {
    switch (self, status) {
    case (.unicode, .done): "☓"
    case (.unicode, .running): "↺"
    case (.unicode, .scheduled): "⚑"
    case (.unicode, .idle): "⚐"
    case (.ascii, .done): "x"
    case (.ascii, .running): "o"
    case (.ascii, .scheduled): "."
    case (.ascii, .idle): ">"
    }
  }
}
