#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import SshClient
import Synchronization

/// Where formatters write their text: a pair of byte streams, standing for stdout and stderr.
///
/// Formatters hand over whole formatted blocks (many lines at once); a sink must write each block
/// atomically with respect to other blocks of the same stream.
public protocol OutputSink: Sendable {
  /// Writes `bytes` to `stream`.
  func write(_ bytes: UnsafeRawBufferPointer, to stream: OutputChunk.Stream)
}

/// The process's standard output and standard error (file descriptors 1 and 2), written with
/// `write(2)` under a lock, one call per block.
public final class StandardOutputSink: OutputSink {
  /// The one instance.
  public static let shared = StandardOutputSink()
  private let lock = Mutex(())

  private init() {}

  /// Writes `bytes` entirely to fd 1 (stdout) or 2 (stderr).
  public func write(_ bytes: UnsafeRawBufferPointer, to stream: OutputChunk.Stream) {
    let fd: Int32 = stream == .stdout ? 1 : 2
    lock.withLock { _ in writeFully(fd, bytes) }
  }
}

/// Writes a whole buffer to a file descriptor, retrying partial writes and EINTR; gives up silently
/// on other errors (a closed pipe must not kill the run).
func writeFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) {
  guard var pointer = bytes.baseAddress else { return }
  var left = bytes.count
  while left > 0 {
    let written = Glibc.write(fd, pointer, left)
    if written < 0 {
      if errno == EINTR { continue }
      return
    }
    pointer += written
    left -= written
  }
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
