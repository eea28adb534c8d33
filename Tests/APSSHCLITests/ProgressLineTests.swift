import Foundation
import SshJobs
import TestSupport
import Testing

@testable import APSSHCLI

/// The progress line is cut to the terminal's width, so that it never wraps (a wrapped line
/// cannot be erased: each update would leave one behind).
@Suite struct ProgressLineTests {
  @Test func textIsCutToTheColumnsWithAnEllipsis() {
    let line = "apssh: 5/8 done, 2 running, 1 failed, 3.2s"
    #expect(ProgressLine.fitted(line, columns: 80) == line)
    #expect(ProgressLine.fitted(line, columns: line.count) == line)
    #expect(ProgressLine.fitted(line, columns: line.count - 1) == "apssh: 5/8 done, 2 running, 1 failed, 3.…")
    #expect(ProgressLine.fitted(line, columns: 10) == "apssh: 5/…")
    #expect(ProgressLine.fitted(line, columns: 1) == "…")
    #expect(ProgressLine.fitted(line, columns: 0) == "")
    #expect(ProgressLine.fitted(line, columns: -3) == "")
  }

  @Test func wideAndCombiningCharactersCountTheirColumns() {
    // Two columns each for CJK and emoji, none for a combining accent; never half a character.
    #expect(ProgressLine.width(of: "漢") == 2)
    #expect(ProgressLine.width(of: "🚀") == 2)
    #expect(ProgressLine.width(of: "e\u{301}") == 1)
    #expect(ProgressLine.width(of: "a") == 1)
    #expect(ProgressLine.fitted("漢字テスト", columns: 6) == "漢字…")
    #expect(ProgressLine.fitted("漢字テスト", columns: 10) == "漢字テスト")
    #expect(ProgressLine.fitted("ab🚀cd", columns: 4) == "ab…")
    #expect(ProgressLine.fitted("e\u{301}e\u{301}e\u{301}", columns: 2) == "e\u{301}…")
  }

  @Test func randomTextsFitAndAreCutOnlyBetweenCharacters() {
    var random = SeededRandom(seed: 2024)
    let pieces: [String] = ["a", " ", "漢", "🚀", "e\u{301}", "👨‍👩‍👧", "é", "/", "…", "\u{1B}", "ß", "ｱ", "9"]
    for _ in 0..<3_000 {
      let text = (0..<Int(random.next() % 40)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
      let columns = Int(random.next() % 30)
      let fitted = ProgressLine.fitted(text, columns: columns)
      let width = fitted.reduce(0) { $0 + ProgressLine.width(of: $1) }
      #expect(width <= max(columns, 0), "\(text.debugDescription) in \(columns)")
      // Valid UTF-8 made of whole characters of the text: the text itself, or a prefix plus `…`.
      #expect(String(decoding: Array(fitted.utf8), as: UTF8.self) == fitted)
      if fitted != text && columns > 0 {
        #expect(fitted.hasSuffix("…"))
        #expect(text.hasPrefix(String(fitted.dropLast())), "\(text.debugDescription) -> \(fitted.debugDescription)")
        #expect(Array(text).starts(with: Array(fitted.dropLast())))
      }
    }
  }

  @Test func theDrawnLineStaysWithinTheTerminalWidth() async throws {
    let sink = BufferSink()
    let line = ProgressLine(inner: sink, tool: "apssh", total: 1234, columns: { 24 })
    line.started()
    line.ended(failed: true)
    "output\n".utf8.withContiguousStorageIfAvailable { line.write(UnsafeRawBufferPointer($0), to: .stdout) }
    line.finish()
    let drawn = sink.stderrText.components(separatedBy: "\r\u{1B}[K").filter { !$0.isEmpty }
    #expect(!drawn.isEmpty)
    for text in drawn { #expect(text.count <= 23, "\(text.debugDescription)") }
    #expect(drawn.contains("apssh: 1/1234 done, 0 …"), "\(drawn)")
    #expect(sink.stdoutText == "output\n")
    // Unknown width (not a terminal): the whole line.
    let whole = BufferSink()
    let uncut = ProgressLine(inner: whole, tool: "apssh", total: 2, columns: { nil })
    uncut.started()
    uncut.finish()
    #expect(whole.stderrText.contains("apssh: 0/2 done, 1 running, 0 failed, "))
  }

  /// SplitMix64 with a fixed seed.
  struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
  }
}
