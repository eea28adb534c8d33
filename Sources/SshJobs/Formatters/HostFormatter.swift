import SshClient

/// Prefixes each line with its short host name, padded on the right to a common width:
/// `fit01    :hello` (template `{host}:{linenl}`). The default formatter.
public final class HostFormatter: TemplateFormatter, @unchecked Sendable {
  /// Creates a host formatter.
  public init(verbose: Bool = false, sink: any OutputSink = StandardOutputSink.shared) {
    super.init(format: "{host}:{linenl}", verbose: verbose, sink: sink)
  }
}
