import SshClient

/// Prints output lines as they are (template `{linenl}`).
public final class RawFormatter: TemplateFormatter, @unchecked Sendable {
  /// Creates a raw formatter.
  public init(verbose: Bool = false, sink: any OutputSink = StandardOutputSink.shared) {
    super.init(format: "{linenl}", verbose: verbose, sink: sink)
  }
}
