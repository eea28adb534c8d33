import SshClient
import Synchronization

/// Keeps the stdout of commands in memory, unformatted; stderr lines and events are printed on
/// the sink's stderr through the template (`{linenl}` by default).
///
/// For capturing the output of one command into a variable, prefer `Capture` on the command: it
/// does not depend on the node's formatter.
public final class CaptureFormatter: TemplateFormatter, @unchecked Sendable {
  private let captured = Mutex<[UInt8]>([])

  /// Creates a capture formatter.
  public override init(
    format: String = "{linenl}", verbose: Bool = false, sink: any OutputSink = StandardOutputSink.shared
  ) {
    super.init(format: format, verbose: verbose, sink: sink)
  }

  /// Empties the capture.
  public func startCapture() {
    captured.withLock { $0 = [] }
  }

  /// Everything captured since creation or the last `startCapture()`, as text.
  public var capture: String { String(decoding: capturedBytes, as: UTF8.self) }

  /// Everything captured, as bytes.
  public var capturedBytes: [UInt8] { captured.withLock { $0 } }

  /// Captures stdout; formats stderr.
  public override func lines(_ bytes: ArraySlice<UInt8>, stream: OutputChunk.Stream, from origin: OutputOrigin) {
    if stream == .stdout {
      captured.withLock { $0.append(contentsOf: bytes) }
    } else {
      super.lines(bytes, stream: stream, from: origin)
    }
  }
}
