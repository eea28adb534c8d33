import Foundation
import SshJobs

/// The formatter chosen by the output options (reference §2.1 precedence: `--format` > `--raw-format`
/// > `--time-colon-format` > `--date-time` > `--out-dir` > `HostFormatter`), with `--json` taking
/// remote output off stdout: it is collected into the JSON records unless `-o`/`-d` files take it.
/// A scenario node may name its own formatter class, or be verbose, when the output is not
/// collected into files or JSON.
final class OutputMode {
  /// The one formatter shared by every node of the run.
  let formatter: any OutputFormatter
  /// The output directory formatter, when `-o` or `-d`.
  let subdir: SubdirFormatter?
  /// The collector of per-host output for `--json` (nil otherwise, or with `-o`/`-d`).
  let collector: OutputCollector?

  private let sink: any OutputSink
  private let verbose: Bool
  private var named: [String: any OutputFormatter] = [:]

  init(_ options: OutputOptions, raw: Bool, sink: any OutputSink) {
    let verbose = options.verbose || options.debug
    self.sink = sink
    self.verbose = verbose
    let directory = options.outDir ?? (options.dateTime ? Self.timeName() : nil)
    var subdir: SubdirFormatter?
    var collector: OutputCollector?
    var formatterChoice: (any OutputFormatter)?
    if options.json {
      if let directory {
        subdir = SubdirFormatter(directory: directory, verbose: verbose, sink: sink)
      } else {
        collector = OutputCollector(verbose: verbose, sink: sink, limit: (try? options.jsonLimit()) ?? 1 << 20)
      }
    } else if let format = options.format {
      formatterChoice = TemplateFormatter(format: Self.unescape(format), verbose: verbose, sink: sink)
    } else if raw {
      formatterChoice = RawFormatter(verbose: verbose, sink: sink)
    } else if options.timeColonFormat {
      formatterChoice = TimeHostFormatter(verbose: verbose, sink: sink)
    } else if let directory {
      subdir = SubdirFormatter(directory: directory, verbose: verbose, sink: sink)
    }
    self.subdir = subdir
    self.collector = collector
    formatter = subdir ?? collector ?? formatterChoice ?? HostFormatter(verbose: verbose, sink: sink)
    // Failures are reported once, at the end (see ToolRun); as they happen only with -v.
    (formatter as? TemplateFormatter)?.reportsFailuresLive = false
  }

  /// The formatter of a node: the shared one, unless the node names a formatter class or a
  /// verbosity of its own (one instance per class and verbosity) and output is not collected.
  func formatter(for node: NodeSpec) -> any OutputFormatter {
    guard node.formatter != nil || node.verbose != nil, collector == nil, subdir == nil else { return formatter }
    let verbose = node.verbose ?? self.verbose
    let name = node.formatter ?? "HostFormatter"
    let key = "\(name)/\(verbose)"
    if let known = named[key] { return known }
    let made: any OutputFormatter
    switch name {
    case "TimeHostFormatter": made = TimeHostFormatter(verbose: verbose, sink: sink)
    case "RawFormatter": made = RawFormatter(verbose: verbose, sink: sink)
    default: made = HostFormatter(verbose: verbose, sink: sink)
    }
    (made as? TemplateFormatter)?.reportsFailuresLive = false
    named[key] = made
    return made
  }

  /// `%Y-%m-%d@%H:%M` now, the directory name of `-d`.
  static func timeName() -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.dateFormat = "yyyy-MM-dd@HH:mm"
    return formatter.string(from: Date())
  }

  /// `\n` and `\t` typed in a shell become real characters in `-f` templates.
  static func unescape(_ format: String) -> String {
    format.replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\t", with: "\t")
  }
}
