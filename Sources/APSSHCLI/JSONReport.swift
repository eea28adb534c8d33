import Foundation
import Synchronization
import SshJobs

/// With `--json`: keeps each host's stdout and stderr for its record instead of printing them.
/// Events (connection failures…) still go to stderr.
final class OutputCollector: TemplateFormatter, @unchecked Sendable {
  private let outputs = Mutex<[String: (stdout: [UInt8], stderr: [UInt8])]>([:])

  init(verbose: Bool, sink: any OutputSink) {
    super.init(format: "{linenl}", verbose: verbose, sink: sink)
  }

  override func lines(_ bytes: ArraySlice<UInt8>, stream: OutputChunk.Stream, from origin: OutputOrigin) {
    let key = Self.key(origin.username, origin.hostname)
    // Appended in place: copying the entry out and back would copy the whole output every chunk.
    outputs.withLock { outputs in
      if stream == .stdout {
        outputs[key, default: ([], [])].stdout.append(contentsOf: bytes)
      } else {
        outputs[key, default: ([], [])].stderr.append(contentsOf: bytes)
      }
    }
  }

  /// What `user@host` printed.
  func output(user: String, host: String) -> (stdout: String, stderr: String) {
    let entry = outputs.withLock { $0[Self.key(user, host)] }
    return (String(decoding: entry?.stdout ?? [], as: UTF8.self), String(decoding: entry?.stderr ?? [], as: UTF8.self))
  }

  private static func key(_ user: String, _ host: String) -> String { user + "@" + host }
}

/// The `--json` document: one record per host, in target order.
///
/// `status` is `ok` (exit 0), `failed` (non-zero exit or signal), `error` (connection, transfer or
/// timeout error: see `error`), `cancelled` (interrupted) or `skipped` (never started). `target`
/// is the host as the input names it (a target, an inventory host, a scenario node). Times are
/// ISO 8601. `stdout`/`stderr` hold the remote output, unless `-o`/`-d` wrote it to files. With
/// `-S`, there is one record per job (`job` is its label) and `stdout`/`stderr` are the whole output
/// of the job's host (output is collected per host, for every job on it).
struct JSONReport: Codable {
  /// One host's outcome.
  struct Host: Codable {
    var job: String?
    var host: String
    var user: String
    var port: Int?
    var target: String
    var status: String
    var exitStatus: Int32?
    var signal: String?
    var error: String?
    var start: String?
    var end: String?
    var stdout: String?
    var stderr: String?
  }

  var tool: String
  var command: String
  var exitCode: Int32
  var interrupted: Bool
  var hosts: [Host]

  /// The document, pretty-printed with sorted keys, plus a newline.
  func encoded() -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    guard let data = try? encoder.encode(self) else { return "{}\n" }
    return String(decoding: data, as: UTF8.self) + "\n"
  }

  /// A record per job of the run.
  static func records(_ outcome: RunOutcome, collector: OutputCollector?, jobLabels: Bool) -> [Host] {
    let dates = ISO8601DateFormatter()
    dates.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return outcome.jobs.map { job in
      var record = Host(
        job: jobLabels ? job.label : nil, host: job.hostname, user: job.username, port: job.port,
        target: job.spec.node.name, status: job.status.name, exitStatus: nil, signal: nil, error: job.errorMessage,
        start: job.start.map { dates.string(from: $0) }, end: job.end.map { dates.string(from: $0) })
      switch job.exitStatus {
      case .code(let code)?: record.exitStatus = code
      case .signal(let name)?: record.signal = name
      case nil: break
      }
      if let collector {
        let output = collector.output(user: job.username, host: job.hostname)
        record.stdout = output.stdout
        record.stderr = output.stderr
      }
      return record
    }
  }
}
