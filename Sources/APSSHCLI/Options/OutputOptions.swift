import ArgumentParser
import Foundation

/// How output is shown: formatters (`-tc -f -o -d`), verbosity, progress, JSON. `-r` is declared by each
/// tool (it means `--raw-format` in apssh and `--recursive` in appush/appull).
public struct OutputOptions: ParsableArguments, Sendable {
  /// `{time}:{host}:{line}` lines (`-tc` is accepted too).
  @Flag(name: .customLong("time-colon-format"), help: "Lines as time:host:line (also -tc).")
  public var timeColonFormat = false

  /// A custom line template.
  @Option(
    name: [.customShort("f"), .customLong("format")],
    help: "Line template: {linenl} {line} {host} {fqdn} {user} {time}, strftime % codes.")
  public var format: String?

  /// One file per host in that directory.
  @Option(
    name: [.customShort("o"), .customLong("out-dir")],
    help: "Write each host's output to DIR/<host> (stderr to DIR/<host>.err).")
  public var outDir: String?

  /// One file per host in a directory named after the date and time.
  @Flag(
    name: [.customShort("d"), .customLong("date-time")],
    help: "Like -o with a directory named after the time (%Y-%m-%d@%H:%M).")
  public var dateTime = false

  /// Connection events on stderr.
  @Flag(
    name: [.customShort("v"), .customLong("verbose")],
    help: "Report connections, sessions and scheduler events on stderr.")
  public var verbose = false

  /// Extra debug lines.
  @Flag(name: [.customShort("D"), .customLong("debug")], help: "Extra debug output.")
  public var debug = false

  /// No live progress line.
  @Flag(name: .customLong("no-progress"), help: "No live progress line on stderr (it is only shown on a terminal).")
  public var noProgress = false

  /// One JSON document on stdout at the end.
  @Flag(
    name: .customLong("json"),
    help: "Print one JSON document on stdout at the end, a record per host (remote output included in it).")
  public var json = false

  /// The most output kept per host and stream in the JSON document.
  @Option(
    name: .customLong("json-max-output"),
    help: ArgumentHelp(
      "With --json: the most output kept per host and stream (default 1M; 64K, 10M…).", valueName: "SIZE"))
  public var jsonMaxOutput: String = "1M"

  /// `--json-max-output` in bytes.
  func jsonLimit() throws(CLIError) -> Int {
    let text = jsonMaxOutput.trimmingCharacters(in: .whitespaces).uppercased()
    let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
    let unit = text.last.flatMap { units[$0] } ?? 1
    let digits = units[text.last ?? " "] == nil ? text : String(text.dropLast())
    guard let value = Int(digits), value >= 0, value <= Int.max / unit else {
      throw CLIError("--json-max-output expects a size such as 65536, 64K or 10M, not '\(jsonMaxOutput)'")
    }
    return value * unit
  }

  /// Refuses a bad size (a usage error, exit 2).
  public func validate() throws {
    do {
      _ = try jsonLimit()
    } catch {
      throw ValidationError(error.message)
    }
  }

  /// Creates default options.
  public init() {}
}

/// The output options of `appush` and `appull`: verbosity, progress and `--json`. A copy prints no
/// remote output, so the formats and output files of apssh (`-tc -f -o -d --raw-format
/// --json-max-output`) are not among them.
public struct CopyOutputOptions: ParsableArguments, Sendable {
  /// Connection events on stderr.
  @Flag(
    name: [.customShort("v"), .customLong("verbose")],
    help: "Report connections, sessions and scheduler events on stderr.")
  public var verbose = false

  /// Extra debug lines.
  @Flag(name: [.customShort("D"), .customLong("debug")], help: "Extra debug output.")
  public var debug = false

  /// No live progress line.
  @Flag(name: .customLong("no-progress"), help: "No live progress line on stderr (it is only shown on a terminal).")
  public var noProgress = false

  /// One JSON document on stdout at the end.
  @Flag(name: .customLong("json"), help: "Print one JSON document on stdout at the end, a record per host.")
  public var json = false

  /// Creates default options.
  public init() {}

  /// The same choices as apssh's output options (the others at their defaults), for the run.
  func outputOptions() throws -> OutputOptions {
    var words: [String] = []
    if verbose { words.append("--verbose") }
    if debug { words.append("--debug") }
    if noProgress { words.append("--no-progress") }
    if json { words.append("--json") }
    return try OutputOptions.parse(words)
  }
}
