import SshClient

/// Prefixes each line with the time of reception and the host: `06-15-26:fit01:hello`
/// (template `{time}:{host}:{linenl}`).
public final class TimeHostFormatter: TemplateFormatter, @unchecked Sendable {
  /// Creates a time-and-host formatter.
  public init(verbose: Bool = false, sink: any OutputSink = StandardOutputSink.shared) {
    super.init(format: "{time}:{host}:{linenl}", verbose: verbose, sink: sink)
  }
}
