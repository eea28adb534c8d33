import Foundation
import SshJobs
import Synchronization

/// The live progress line on stderr (`apssh: 5/8 done, 2 running, 1 failed, 3.2s`), drawn with
/// `\r` + erase-line and never mixed into output: every block written through this sink first
/// erases the line, then the line is drawn again after it.
final class ProgressLine: OutputSink, Sendable {
  private struct State {
    var total = 0
    var done = 0
    var running = 0
    var failed = 0
    var shown = false
    var finished = false
    var ticker: Task<Void, Never>?
  }
  private static let erase = Array("\r\u{1B}[K".utf8)
  private let inner: any OutputSink
  private let tool: String
  private let start = ContinuousClock.now
  private let state = Mutex(State())

  init(inner: any OutputSink, tool: String, total: Int) {
    self.inner = inner
    self.tool = tool
    state.withLock { $0.total = total }
  }

  /// Sets the number of jobs or hosts to expect.
  func setTotal(_ total: Int) { state.withLock { $0.total = total } }

  /// Starts redrawing every half second (for the elapsed time).
  func startTicking() {
    let ticker = Task { [weak self] in
      while !Task.isCancelled {
        try? await Task.sleep(for: .milliseconds(500))
        self?.redraw()
      }
    }
    state.withLock { $0.ticker = ticker }
  }

  /// Writes a block of output, the progress line erased first and drawn again after.
  func write(_ bytes: UnsafeRawBufferPointer, to stream: OutputChunk.Stream) {
    state.withLock { state in
      if state.shown { Self.erase.withUnsafeBytes { inner.write($0, to: .stderr) } }
      inner.write(bytes, to: stream)
      state.shown = false
      draw(&state)
    }
  }

  /// The failures of the sink behind the line.
  var writeFailures: [OutputWriteFailure] { inner.writeFailures }

  /// A host started.
  func started() { update { $0.running += 1 } }

  /// A host ended.
  func ended(failed: Bool) {
    update { state in
      state.running = max(0, state.running - 1)
      if failed { state.failed += 1 } else { state.done += 1 }
    }
  }

  /// Erases the line for good.
  func finish() {
    state.withLock { state in
      state.ticker?.cancel()
      if state.shown { Self.erase.withUnsafeBytes { inner.write($0, to: .stderr) } }
      state.shown = false
      state.finished = true
    }
  }

  private func redraw() { update { _ in } }

  private func update(_ change: (inout State) -> Void) {
    state.withLock { state in
      change(&state)
      draw(&state)
    }
  }

  private func draw(_ state: inout State) {
    guard !state.finished else { return }
    let elapsed = (ContinuousClock.now - start) / .milliseconds(100) / 10
    let text = String(
      format: "\r\u{1B}[K%@: %d/%d done, %d running, %d failed, %.1fs", tool, state.done + state.failed, state.total,
      state.running, state.failed, elapsed)
    Array(text.utf8).withUnsafeBytes { inner.write($0, to: .stderr) }
    state.shown = true
  }
}
