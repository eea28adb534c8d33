import SshClient
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A formatter that prints each line through a template, stdout lines on the sink's stdout and
/// stderr lines and events on its stderr.
///
/// Template placeholders: `{linenl}` (the line as received, with its newline), `{line}` (without
/// it), `{nl}`, `{host}` (short host name), `{fqdn}` (full host name), `{user}` (the user name),
/// `{time}` (`%H-%M-%S`); any `strftime` directive (`%Y`, `%%`…) is expanded at reception time.
/// Host names and users are padded on the right to the width of the longest one registered with
/// the formatter (a line starts with its host name). Only the template is substituted: remote text
/// is printed as is.
///
/// Events (connections, sessions, SFTP) are printed only when `verbose`; connection failures and
/// messages of verbose commands always are.
open class TemplateFormatter: OutputFormatter, @unchecked Sendable {
  /// The template.
  public let format: String
  /// Whether connection and session events are printed.
  public let verbose: Bool
  /// Where the text goes.
  public let sink: any OutputSink
  /// Whether a connection failure is printed when it happens even without `verbose` (true by
  /// default). A tool that reports failures at the end sets it to false, before any output, so
  /// that each failure is told once.
  public nonisolated(unsafe) var reportsFailuresLive = true

  let template: LineTemplate
  private let usesTime: Bool

  struct Widths: Equatable {
    var fqdn = 0
    var host = 0
    var user = 0
  }

  private struct State {
    var widths = Widths()
    var cache: [OutputOrigin: ResolvedTemplate] = [:]
  }
  private let state = Mutex(State())

  /// Creates a formatter.
  /// - Parameters:
  ///   - format: the template (see the type's documentation).
  ///   - verbose: whether to print connection and session events.
  ///   - sink: where to write (the process's stdout/stderr by default).
  public init(format: String, verbose: Bool = false, sink: any OutputSink = StandardOutputSink.shared) {
    self.format = format
    self.verbose = verbose
    self.sink = sink
    template = LineTemplate(format)
    usesTime = template.usesTime
  }

  /// The placeholders of templates, as written: `{linenl}`, `{line}`, `{nl}`, `{host}`, `{fqdn}`,
  /// `{user}`, `{time}`.
  public static var placeholders: [String] { LineTemplate.placeholders }

  /// The words in braces of `format` that are not placeholders (`{nosuch}`), in order: a template
  /// that holds any is most likely mistyped (the formatter would print them as they are).
  public static func unknownPlaceholders(in format: String) -> [String] {
    LineTemplate.unknownPlaceholders(in: format)
  }

  /// Whether the template `format` shows the text of each line (holds `{line}` or `{linenl}`).
  public static func showsLines(_ format: String) -> Bool { LineTemplate(format).showsLine }

  /// Records the widths of the origin's host names and user.
  open func register(_ origin: OutputOrigin) {
    state.withLock { state in
      var widths = state.widths
      widths.fqdn = max(widths.fqdn, origin.hostname.count)
      widths.host = max(widths.host, origin.shortHostname.count)
      widths.user = max(widths.user, origin.username.count)
      if widths != state.widths {
        state.widths = widths
        state.cache = [:]
      }
    }
  }

  /// Formats the lines and writes them, in one write, to the sink's stdout or stderr.
  open func lines(_ bytes: ArraySlice<UInt8>, stream: OutputChunk.Stream, from origin: OutputOrigin) {
    let output = render(bytes, from: origin)
    output.withUnsafeBytes { sink.write($0, to: stream) }
  }

  /// Prints the event's text (see `text(of:from:)`), if any, as a line on the sink's stderr;
  /// host key notices (see `notice(of:)`) are printed as they are, without the template.
  open func event(_ event: FormatterEvent, from origin: OutputOrigin) {
    if let notice = Self.notice(of: event) {
      Array((notice + "\n").utf8).withUnsafeBytes { sink.write($0, to: .stderr) }
      return
    }
    guard let text = text(of: event, from: origin) else { return }
    let output = render(ArraySlice(Array((text + "\n").utf8)), from: origin)
    output.withUnsafeBytes { sink.write($0, to: .stderr) }
  }

  /// The formatted form of a block of lines (see `OutputFormatter.lines`).
  public func render(_ bytes: ArraySlice<UInt8>, from origin: OutputOrigin) -> [UInt8] {
    let resolved = resolve(for: origin)
    var output: [UInt8] = []
    output.reserveCapacity(bytes.count + 64 + (resolved.simplePrefix?.count ?? 32) * (bytes.count / 32 + 1))
    resolved.render(bytes, into: &output)
    return output
  }

  /// The message printed for an event, or nil when this formatter does not print it:
  /// `========== Connecting (direct) to user@host`, `Connection failed to user@host : reason`…
  open func text(of event: FormatterEvent, from origin: OutputOrigin) -> String? {
    let separator = "=========="
    let userHost = "\(origin.username)@\(origin.hostname)"
    switch event {
    case .message(let message):
      return message.hasSuffix("\n") ? String(message.dropLast()) : message
    case .connectionFailed(let reason):
      if !verbose && !reportsFailuresLive { return nil }
      let failure = "Connection failed to \(userHost) : \(reason)"
      return verbose ? failure + "\n" + "\(separator) Connection failed to \(userHost)" : failure
    case .connectionRetrying(let reason) where verbose:
      return "\(separator) Connection attempt failed to \(userHost) : \(reason); retrying"
    case .connecting(let direct) where verbose:
      return "\(separator) Connecting (\(direct ? "direct" : "tunnelled")) to \(userHost)"
    case .authenticated where verbose:
      return "\(separator) Authorization OK \(userHost)"
    case .connectionClosed where verbose:
      return "\(separator) Connection closed to \(userHost)"
    case .sessionStarted(let command) where verbose:
      return "\(separator) Session started for \(command)"
    case .sessionEnded(let command) where verbose:
      return "\(separator) Session ended for \(command)"
    case .sftpStarted where verbose:
      return "\(separator) SFTP subsystem started"
    case .sftpStopped where verbose:
      return "\(separator) SFTP subsystem stopped"
    default:
      return nil
    }
  }

  /// The words of an event about host keys, which every formatter prints whatever its verbosity,
  /// as OpenSSH does: `Permanently added '[127.0.0.2]:2222' (ED25519) to the list of known
  /// hosts.`, or a warning in capitals for a changed key that was not checked; nil for other events.
  public static func notice(of event: FormatterEvent) -> String? {
    switch event {
    case .hostKeyRecorded(let host, let keyType, _):
      return "Permanently added '\(host)' (\(keyType)) to the list of known hosts."
    case .hostKeyChangedUnchecked(let host, let keyType, let file, let line):
      let location = file + (line.map { " line \($0)" } ?? "")
      return "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for \(host): its \(keyType) key differs from the one in "
        + "\(location); someone could be eavesdropping on you (man-in-the-middle attack), or the host was reinstalled. "
        + "Connecting anyway (checking disabled by --no-host-key-check)."
    default:
      return nil
    }
  }

  /// The template resolved for `origin` now: cached unless it shows the time.
  private func resolve(for origin: OutputOrigin) -> ResolvedTemplate {
    if !usesTime, let cached = state.withLock({ $0.cache[origin] }) { return cached }
    let widths = state.withLock { $0.widths }
    let now = time(nil)
    var parts: [ResolvedTemplate.Part] = []
    for piece in template.pieces {
      switch piece {
      case .literal(let text):
        parts.append(.bytes(Array((text.contains("%") ? formatTime(text, at: now) : text).utf8)))
      case .line: parts.append(.line)
      case .linenl: parts.append(.linenl)
      case .nl: parts.append(.bytes([0x0A]))
      case .fqdn: parts.append(.bytes(Array(padded(origin.hostname, width: widths.fqdn).utf8)))
      case .host: parts.append(.bytes(Array(padded(origin.shortHostname, width: widths.host).utf8)))
      case .user: parts.append(.bytes(Array(padded(origin.username, width: widths.user).utf8)))
      }
    }
    let resolved = ResolvedTemplate(parts: parts)
    if !usesTime { state.withLock { $0.cache[origin] = resolved } }
    return resolved
  }
}
