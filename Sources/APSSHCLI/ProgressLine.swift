import Foundation
import SshJobs
import Synchronization

/// The live progress line on stderr (`apssh: 5/8 done, 2 running, 1 failed, 3.2s`), drawn with
/// `\r` + erase-line and never mixed into output: every block written through this sink first
/// erases the line, then the line is drawn again after it. The line is cut to the width of the
/// terminal, asked at each drawing (a line that wrapped could not be erased: each update would
/// leave one behind).
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
  private let columns: @Sendable () -> Int?
  private let start = ContinuousClock.now
  private let state = Mutex(State())

  /// - Parameter columns: the width of the terminal now, or nil when unknown (no cut).
  init(inner: any OutputSink, tool: String, total: Int, columns: @escaping @Sendable () -> Int?) {
    self.inner = inner
    self.tool = tool
    self.columns = columns
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
    var text = String(
      format: "%@: %d/%d done, %d running, %d failed, %.1fs", tool, state.done + state.failed, state.total,
      state.running, state.failed, elapsed)
    // The last column is left free: some terminals wrap as soon as it is written.
    if let columns = columns() { text = Self.fitted(text, columns: columns - 1) }
    (Self.erase + Array(text.utf8)).withUnsafeBytes { inner.write($0, to: .stderr) }
    state.shown = true
  }

  /// `text` cut to at most `columns` terminal columns, ending with `…` when cut: whole characters
  /// only (never a piece of a UTF-8 sequence or of a grapheme), wide ones (CJK, emoji) counting
  /// two columns, combining marks none (see ``width(of:)``).
  static func fitted(_ text: String, columns: Int) -> String {
    guard columns > 0 else { return "" }
    var used = 0
    var end = text.startIndex
    var cut: String.Index?
    for index in text.indices {
      let width = self.width(of: text[index])
      // Where the text must stop if it turns out to be too long: room left for `…`.
      if cut == nil && used + width > columns - 1 { cut = index }
      if used + width > columns { return String(text[..<(cut ?? index)]) + "…" }
      used += width
      end = text.index(after: index)
    }
    return String(text[..<end])
  }

  /// The columns a character takes on a terminal: 0 for control and zero-width characters
  /// (combining marks alone, joiners), 2 for East Asian wide and full-width ones and emoji shown
  /// as pictures, else 1.
  static func width(of character: Character) -> Int {
    guard let first = character.unicodeScalars.first else { return 0 }
    let value = first.value
    if value < 0x20 || (0x7F..<0xA0).contains(value) { return 0 }
    switch first.properties.generalCategory {
    case .nonspacingMark, .enclosingMark, .format: return 0
    default: break
    }
    if first.properties.isEmojiPresentation || character.unicodeScalars.contains(where: { $0.value == 0xFE0F }) {
      return 2
    }
    let wide: [ClosedRange<UInt32>] = [
      0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
      0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x20000...0x3FFFD,
    ]
    return wide.contains { $0.contains(value) } ? 2 : 1
  }
}
