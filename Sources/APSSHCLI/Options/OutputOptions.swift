import ArgumentParser
import Foundation
import SshJobs

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
    help:
      "Write each host's output to DIR/<host> (stderr to DIR/<host>.err); this run's hosts' old files and old marks are removed first."
  )
  public var outDir: String?

  /// One file per host in a directory named after the date and time.
  @Flag(
    name: [.customShort("d"), .customLong("date-time")],
    help: "Like -o with a directory named after the time (%Y-%m-%d@%H:%M).")
  public var dateTime = false

  /// Verbosity, progress and `--json`: what the copy tools have too.
  @OptionGroup public var report: ReportOptions

  /// Connection events on stderr (`-v`).
  public var verbose: Bool {
    get { report.verbose }
    set { report.verbose = newValue }
  }
  /// Extra debug lines (`-D`).
  public var debug: Bool {
    get { report.debug }
    set { report.debug = newValue }
  }
  /// No live progress line (`--no-progress`).
  public var noProgress: Bool {
    get { report.noProgress }
    set { report.noProgress = newValue }
  }
  /// One JSON document on stdout at the end (`--json`).
  public var json: Bool {
    get { report.json }
    set { report.json = newValue }
  }

  /// The most output kept per host and stream in the JSON document.
  @Option(
    name: .customLong("json-max-output"),
    help: ArgumentHelp(
      "With --json: the most output kept per host and stream (64K, 1M, 10M…).", valueName: "SIZE"))
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

  /// Refuses a bad size, a template that shows nothing or has a mistyped placeholder, and options
  /// that choose different output modes (usage errors, exit 2).
  public func validate() throws {
    do {
      _ = try jsonLimit()
      try checkFormat()
      try checkCombinations(raw: nil)
    } catch {
      throw ValidationError(error.message)
    }
  }

  /// `-f ''` (every line would be dropped) and `-f '{nosuch}'` are errors.
  func checkFormat() throws(CLIError) {
    guard let format else { return }
    let known = TemplateFormatter.placeholders.joined(separator: " ")
    if format.isEmpty {
      throw CLIError(
        "-f: the template is empty, so every output line would be dropped;"
          + " give one such as '{host}:{linenl}' (placeholders: \(known))")
    }
    let unknown = TemplateFormatter.unknownPlaceholders(in: format)
    if !unknown.isEmpty {
      let names = unknown.joined(separator: ", ")
      throw CLIError(
        "-f '\(format)': unknown placeholder\(unknown.count > 1 ? "s" : "") \(names);"
          + " the placeholders are \(known) (and strftime codes such as %H)")
    }
  }

  /// The output options given that choose how remote output is shown, in a fixed order: `-f`,
  /// `-r` (`raw`, as the tool names it), `-tc` (lines); `-o`, `-d` (files); `--json`.
  private func outputModes(raw: String?) -> [(option: String, kind: OutputKind)] {
    var modes: [(String, OutputKind)] = []
    if format != nil { modes.append(("-f", .lines)) }
    if let raw { modes.append((raw, .lines)) }
    if timeColonFormat { modes.append(("-tc", .lines)) }
    if outDir != nil { modes.append(("-o", .directory)) }
    if dateTime { modes.append(("-d", .directory)) }
    if json { modes.append(("--json", .json)) }
    return modes
  }

  /// What an output option chooses.
  private enum OutputKind {
    /// How lines are printed on stdout/stderr (`-f`, `-r`, `-tc`).
    case lines
    /// The directory of one file per host (`-o`, `-d`).
    case directory
    /// One JSON document on stdout (`--json`).
    case json
  }

  /// Refuses two output options that cannot both apply (one would be ignored): two line formats,
  /// `-o` with `-d`, a line format with `-o`/`-d` (files hold the output as it is) or with
  /// `--json` (the output goes into the document). `--json` with `-o`/`-d` is fine: the files
  /// hold the output, the document the statuses.
  /// - Parameter raw: how the tool names its raw-format flag when it was given (`-r`), else nil.
  func checkCombinations(raw: String?) throws(CLIError) {
    let modes = outputModes(raw: raw)
    for (index, first) in modes.enumerated() {
      for second in modes[(index + 1)...] {
        let why: String
        switch (first.kind, second.kind) {
        case (.lines, .lines):
          why = "both choose how output lines are printed"
        case (.directory, .directory):
          why = "both choose the output directory (-d names it after the time)"
        case (.lines, .directory):
          why =
            "\(second.option) writes each host's output as it is into its own file, \(first.option) would be ignored"
        case (.lines, .json):
          why = "--json puts each host's output into one JSON document, \(first.option) would be ignored"
        default:
          continue
        }
        throw CLIError("\(first.option) and \(second.option) cannot be used together: \(why); keep one")
      }
    }
  }

  /// Warnings about options that work but most likely not as meant: a `-f` template that shows no
  /// line text (neither `{line}` nor `{linenl}`).
  var warnings: [String] {
    guard let format, !format.isEmpty, !TemplateFormatter.showsLines(format) else {
      return []
    }
    return ["-f '\(format)' has neither {line} nor {linenl}: the text of the output lines is not shown"]
  }

  /// Creates default options.
  public init() {}
}

/// The output options of every tool, `appush` and `appull` included: verbosity, progress and
/// `--json`. A copy prints no remote output, so the formats and output files of apssh (`-tc -f -o
/// -d --raw-format --json-max-output`, in ``OutputOptions``) are not among them.
public struct ReportOptions: ParsableArguments, Sendable {
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

  /// apssh's output options with these choices (the others at their defaults), for the run.
  func outputOptions() throws -> OutputOptions {
    var options = try OutputOptions.parse([])  // parsed: options made by `init()` cannot be read
    options.report = self
    return options
  }
}
