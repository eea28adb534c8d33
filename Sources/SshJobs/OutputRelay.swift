import SshClient
import Synchronization

/// Splits the output chunks of one command into lines per stream and hands whole lines to a
/// formatter (a partial last line is flushed by `finish()`), or keeps stdout for a capture.
///
/// Memory is bounded: a line longer than ``longestLine`` is handed over in pieces of that size
/// (formatters that prefix lines print each piece as a line of its own; raw ones pass the bytes
/// unchanged), so a command that prints hundreds of megabytes without a newline costs no more.
final class OutputRelay: Sendable {
  /// The most bytes of one line held while waiting for its newline.
  static let longestLine = 64 * 1024

  private struct State {
    var pendingOut: [UInt8] = []
    var pendingErr: [UInt8] = []
    var captured: [UInt8] = []
  }
  private let state = Mutex(State())
  let formatter: any OutputFormatter
  let origin: OutputOrigin
  let capturing: Bool

  init(formatter: any OutputFormatter, origin: OutputOrigin, capturing: Bool) {
    self.formatter = formatter
    self.origin = origin
    self.capturing = capturing
  }

  /// Takes some bytes of `stream` as they arrived.
  func receive(_ bytes: ArraySlice<UInt8>, stream: OutputChunk.Stream) {
    if bytes.isEmpty { return }
    state.withLock { state in
      if capturing && stream == .stdout {
        state.captured.append(contentsOf: bytes)
        return
      }
      guard let lastNewline = bytes.lastIndex(of: 0x0A) else {
        if stream == .stdout {
          Self.hold(bytes, in: &state.pendingOut, stream: stream, to: formatter, from: origin)
        } else {
          Self.hold(bytes, in: &state.pendingErr, stream: stream, to: formatter, from: origin)
        }
        return
      }
      let complete = bytes[bytes.startIndex...lastNewline]
      let rest = bytes[(lastNewline + 1)...]
      if stream == .stdout {
        Self.deliver(complete, rest: rest, pending: &state.pendingOut, stream: stream, to: formatter, from: origin)
      } else {
        Self.deliver(complete, rest: rest, pending: &state.pendingErr, stream: stream, to: formatter, from: origin)
      }
    }
  }

  /// Keeps a piece of a line; hands over what reaches ``longestLine``.
  private static func hold(
    _ bytes: ArraySlice<UInt8>, in pending: inout [UInt8], stream: OutputChunk.Stream,
    to formatter: any OutputFormatter,
    from origin: OutputOrigin
  ) {
    pending.append(contentsOf: bytes)
    var start = 0
    while pending.count - start >= longestLine {
      formatter.lines(pending[start..<(start + longestLine)], stream: stream, from: origin)
      start += longestLine
    }
    if start > 0 { pending.removeFirst(start) }
  }

  private static func deliver(
    _ complete: ArraySlice<UInt8>, rest: ArraySlice<UInt8>, pending: inout [UInt8], stream: OutputChunk.Stream,
    to formatter: any OutputFormatter, from origin: OutputOrigin
  ) {
    if pending.isEmpty {
      formatter.lines(complete, stream: stream, from: origin)
    } else {
      pending.append(contentsOf: complete)
      formatter.lines(pending[...], stream: stream, from: origin)
      pending.removeAll(keepingCapacity: pending.count <= longestLine)
    }
    hold(rest, in: &pending, stream: stream, to: formatter, from: origin)
  }

  /// Flushes partial last lines (as they are: the formatter decides whether they end a line);
  /// returns the captured stdout.
  @discardableResult
  func finish() -> [UInt8] {
    state.withLock { state in
      if !state.pendingOut.isEmpty {
        formatter.lines(state.pendingOut[...], stream: .stdout, from: origin)
        state.pendingOut = []
      }
      if !state.pendingErr.isEmpty {
        formatter.lines(state.pendingErr[...], stream: .stderr, from: origin)
        state.pendingErr = []
      }
      return state.captured
    }
  }
}
