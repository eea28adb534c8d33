import Foundation
import SshJobs
import Synchronization

/// With `--json`: keeps each host's stdout and stderr for its record instead of printing them,
/// at most `limit` bytes of each (the rest is counted, not kept). Events (connection failures…)
/// still go to stderr.
final class OutputCollector: TemplateFormatter, @unchecked Sendable {
  /// What one stream of one host printed.
  struct Kept {
    /// The first `limit` bytes.
    var bytes: [UInt8] = []
    /// How many bytes came in all.
    var total = 0
  }
  private let outputs = Mutex<[String: (stdout: Kept, stderr: Kept)]>([:])
  /// The most bytes kept per host and stream.
  let limit: Int

  init(verbose: Bool, sink: any OutputSink, limit: Int) {
    self.limit = limit
    super.init(format: "{linenl}", verbose: verbose, sink: sink)
  }

  override func lines(_ bytes: ArraySlice<UInt8>, stream: OutputChunk.Stream, from origin: OutputOrigin) {
    let key = Self.key(origin.username, origin.hostname)
    let limit = self.limit
    func keep(_ kept: inout Kept) {
      kept.total += bytes.count
      let room = limit - kept.bytes.count
      if room > 0 { kept.bytes.append(contentsOf: bytes.prefix(room)) }
    }
    // Appended in place: copying the entry out and back would copy the whole output every chunk.
    outputs.withLock { outputs in
      if stream == .stdout {
        keep(&outputs[key, default: (Kept(), Kept())].stdout)
      } else {
        keep(&outputs[key, default: (Kept(), Kept())].stderr)
      }
    }
  }

  /// What `user@host` printed.
  func output(user: String, host: String) -> (stdout: Kept, stderr: Kept) {
    outputs.withLock { $0[Self.key(user, host)] } ?? (Kept(), Kept())
  }

  private static func key(_ user: String, _ host: String) -> String { user + "@" + host }
}

/// The `--json` document: one record per host, in target order.
///
/// `status` is `ok` (exit 0), `failed` (non-zero exit or signal), `error` (connection, transfer or
/// timeout error: see `error`), `cancelled` (interrupted) or `skipped` (never started). `target`
/// is the host as the input names it (a target, an inventory host, a scenario node). Times are
/// ISO 8601. `stdout`/`stderr` hold the remote output, unless `-o`/`-d` wrote it to files: at most
/// `--json-max-output` bytes of each (then `stdoutTruncated` is true and `stdoutBytes` says how
/// many came); output that is not valid UTF-8 is in `stdoutBase64` instead of `stdout`. With
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
    var stdoutBase64: String?
    var stderrBase64: String?
    var stdoutTruncated: Bool?
    var stderrTruncated: Bool?
    var stdoutBytes: Int?
    var stderrBytes: Int?
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
        let output = collector.output(user: job.username, host: job.displayName)
        (record.stdout, record.stdoutBase64, record.stdoutTruncated, record.stdoutBytes) = Self.fields(output.stdout)
        (record.stderr, record.stderrBase64, record.stderrTruncated, record.stderrBytes) = Self.fields(output.stderr)
      }
      return record
    }
  }

  /// A stream's fields: the text when it is UTF-8 (a character cut by the limit left out), else
  /// base64; and, when cut, `true` and the whole size.
  static func fields(_ kept: OutputCollector.Kept) -> (String?, String?, Bool?, Int?) {
    let truncated = kept.total > kept.bytes.count
    var bytes = kept.bytes[...]
    if truncated {
      // Up to three bytes of a character the limit cut.
      for drop in 0...min(3, bytes.count) where String(validatingUTF8: bytes.dropLast(drop)) != nil {
        bytes = bytes.dropLast(drop)
        break
      }
    }
    let cut: (Bool?, Int?) = truncated ? (true, kept.total) : (nil, nil)
    if let text = String(validatingUTF8: bytes) { return (text, nil, cut.0, cut.1) }
    return (nil, Data(kept.bytes).base64EncodedString(), cut.0, cut.1)
  }
}

extension String {
  /// The text of `bytes` when they are valid UTF-8, else nil.
  fileprivate init?(validatingUTF8 bytes: ArraySlice<UInt8>) {
    guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
    self = text
  }
}
