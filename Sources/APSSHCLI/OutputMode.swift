import Foundation
import SshJobs

/// The formatter chosen by the output options (reference §2.1 precedence: `--format` > `--raw-format`
/// > `--time-colon-format` > `--date-time` > `--out-dir` > `HostFormatter`), with `--json` taking
/// remote output off stdout: it is collected into the JSON records unless `-o`/`-d` files take it.
struct OutputMode {
  /// The one formatter shared by every node of the run.
  let formatter: any OutputFormatter
  /// The output directory formatter, when `-o` or `-d`.
  let subdir: SubdirFormatter?
  /// The collector of per-host output for `--json` (nil otherwise, or with `-o`/`-d`).
  let collector: OutputCollector?

  init(_ options: OutputOptions, raw: Bool, sink: any OutputSink) {
    let verbose = options.verbose || options.debug
    let directory = options.outDir ?? (options.dateTime ? Self.timeName() : nil)
    var subdir: SubdirFormatter?
    var collector: OutputCollector?
    var formatterChoice: (any OutputFormatter)?
    if options.json {
      if let directory {
        subdir = SubdirFormatter(directory: directory, verbose: verbose, sink: sink)
      } else {
        collector = OutputCollector(verbose: verbose, sink: sink)
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
