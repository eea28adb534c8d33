import SshClient
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where formatters write their text: a pair of byte streams, standing for stdout and stderr.
///
/// Formatters hand over whole formatted blocks (many lines at once); a sink must write each block
/// atomically with respect to other blocks of the same stream. A sink that cannot write keeps
/// the first failure of each stream (``writeFailures``), so that the run can say so.
public protocol OutputSink: Sendable {
  /// Writes `bytes` to `stream`.
  func write(_ bytes: UnsafeRawBufferPointer, to stream: OutputChunk.Stream)
  /// The writes that failed, one per stream or file (empty by default).
  var writeFailures: [OutputWriteFailure] { get }
}

extension OutputSink {
  /// No failure (sinks that cannot fail).
  public var writeFailures: [OutputWriteFailure] { [] }
}

/// Output that could not be written: where, and why.
public struct OutputWriteFailure: Sendable, Equatable, CustomStringConvertible {
  /// `stdout`, `stderr`, or a file path.
  public let path: String
  /// The system error (`errno`).
  public let errno: Int32

  /// Creates a failure.
  public init(path: String, errno: Int32) {
    self.path = path
    self.errno = errno
  }

  /// `cannot write to stdout: No space left on device`; for a file of an output directory,
  /// `cannot write to DIR/h: it is a symbolic link (never followed)`.
  public var description: String {
    let reason: String
    switch errno {
    case ELOOP: reason = "it is a symbolic link (never followed)"
    case EEXIST: reason = "something else took that name during the run (not replaced)"
    case EISDIR: reason = "it is a directory"
    default: reason = String(cString: strerror(errno))
    }
    return "cannot write to \(path): \(reason)"
  }
}

/// The process's standard output and standard error (file descriptors 1 and 2), written with
/// `write(2)` under a lock, one call per block.
///
/// A stream that fails is not written again; its failure is kept (``writeFailures``). When the
/// reader of stdout has gone (`EPIPE`: `apssh … | head -1`; SIGPIPE must be ignored), the
/// ``onBrokenPipe`` handler runs once, so that the run can stop.
public final class StandardOutputSink: OutputSink {
  /// The one instance.
  public static let shared = StandardOutputSink()
  private struct State {
    var failures: [OutputChunk.Stream: OutputWriteFailure] = [:]
    var onBrokenPipe: (@Sendable () -> Void)?
  }
  private let state = Mutex(State())

  private init() {}

  /// Writes `bytes` entirely to fd 1 (stdout) or 2 (stderr), unless that stream failed before.
  public func write(_ bytes: UnsafeRawBufferPointer, to stream: OutputChunk.Stream) {
    let brokenPipe = state.withLock { state -> (@Sendable () -> Void)? in
      guard state.failures[stream] == nil else { return nil }
      let failure = writeFully(stream == .stdout ? 1 : 2, bytes)
      guard failure != 0 else { return nil }
      state.failures[stream] = OutputWriteFailure(path: stream == .stdout ? "stdout" : "stderr", errno: failure)
      guard failure == EPIPE, stream == .stdout else { return nil }
      defer { state.onBrokenPipe = nil }
      return state.onBrokenPipe
    }
    brokenPipe?()
  }

  /// The streams that could not be written.
  public var writeFailures: [OutputWriteFailure] {
    state.withLock { state in [OutputChunk.Stream.stdout, .stderr].compactMap { state.failures[$0] } }
  }

  /// Sets what runs (once) when stdout's reader has gone.
  public func onBrokenPipe(_ handler: (@Sendable () -> Void)?) {
    state.withLock { $0.onBrokenPipe = handler }
  }
}

/// Writes a whole buffer to a file descriptor, retrying partial writes and EINTR; returns 0, or the
/// `errno` of the failure.
@discardableResult
func writeFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
  guard var pointer = bytes.baseAddress else { return 0 }
  var left = bytes.count
  while left > 0 {
    let written = Glibc.write(fd, pointer, left)
    if written < 0 {
      if errno == EINTR { continue }
      return errno
    }
    pointer += written
    left -= written
  }
  return 0
}

/// Keeps everything written in memory (for tests, or to post-process output).
public final class BufferSink: OutputSink {
  private let buffers = Mutex<(stdout: [UInt8], stderr: [UInt8])>(([], []))

  /// Creates an empty sink.
  public init() {}

  /// Appends `bytes` to the buffer of `stream`.
  public func write(_ bytes: UnsafeRawBufferPointer, to stream: OutputChunk.Stream) {
    buffers.withLock {
      if stream == .stdout {
        $0.stdout.append(contentsOf: bytes)
      } else {
        $0.stderr.append(contentsOf: bytes)
      }
    }
  }

  /// Everything written to stdout so far.
  public var stdout: [UInt8] { buffers.withLock { $0.stdout } }
  /// Everything written to stderr so far.
  public var stderr: [UInt8] { buffers.withLock { $0.stderr } }
  /// stdout decoded as UTF-8.
  public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
  /// stderr decoded as UTF-8.
  public var stderrText: String { String(decoding: stderr, as: UTF8.self) }

  /// Empties both buffers.
  public func reset() {
    buffers.withLock { $0 = ([], []) }
  }
}
