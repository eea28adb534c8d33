import SshClient
import Synchronization

/// Splits the output chunks of one command into lines per stream and hands whole lines to a
/// formatter (a partial last line is flushed by `finish()`), or keeps stdout for a capture.
final class OutputRelay: Sendable {
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
        if stream == .stdout { state.pendingOut.append(contentsOf: bytes) } else { state.pendingErr.append(contentsOf: bytes) }
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

  private static func deliver(
    _ complete: ArraySlice<UInt8>, rest: ArraySlice<UInt8>, pending: inout [UInt8], stream: OutputChunk.Stream,
    to formatter: any OutputFormatter, from origin: OutputOrigin
  ) {
    if pending.isEmpty {
      formatter.lines(complete, stream: stream, from: origin)
    } else {
      pending.append(contentsOf: complete)
      formatter.lines(pending[...], stream: stream, from: origin)
      pending.removeAll(keepingCapacity: true)
    }
    pending.append(contentsOf: rest)
  }

  /// Flushes partial last lines (without adding a newline); returns the captured stdout.
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
