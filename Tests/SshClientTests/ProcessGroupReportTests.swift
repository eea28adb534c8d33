import Foundation
import TestSupport
import Testing

@testable import SshClient

/// The launcher's report of the remote process group, taken out of a command's stderr.
@Suite("ProcessGroupReport: the launcher's report in stderr")
struct ProcessGroupReportTests {
  static let report = RemoteProcessGroup.reportPrefix + Array("4321".utf8) + [RemoteProcessGroup.reportEnd]

  /// Feeds `stream` in chunks cut at `cuts`; returns what is delivered and the group.
  func feed(_ stream: [UInt8], cuts: [Int]) -> ([UInt8], Int32?) {
    var parser = ProcessGroupReport()
    var delivered: [UInt8] = []
    var start = 0
    for cut in cuts.sorted() + [stream.count] where cut >= start {
      delivered += parser.take(Array(stream[start..<cut]))
      start = cut
    }
    delivered += parser.finish()
    return (delivered, parser.processGroup)
  }

  @Test("at the start of the stream, in one chunk or cut anywhere")
  func atStart() {
    let stream = Self.report + Array("the command's own error\n".utf8)
    for cut in 0...stream.count {
      let (delivered, group) = feed(stream, cuts: [cut])
      #expect(group == 4321, "cut at \(cut)")
      #expect(delivered == Array("the command's own error\n".utf8), "cut at \(cut)")
    }
  }

  @Test("after a login script's message, which is kept")
  func afterMessage() {
    let before = Array("Welcome to host 7\n".utf8)
    let after = Array("oops\n".utf8)
    let (delivered, group) = feed(before + Self.report + after, cuts: [3, 20, 25])
    #expect(group == 4321)
    #expect(delivered == before + after)
  }

  @Test("random streams cut at random places: the report is removed, nothing else changes")
  func property() {
    var generator = SeededRandom(seed: 105)
    for _ in 0..<500 {
      // Printable text, newlines, and the report's delimiter byte on its own.
      let alphabet: [UInt8] = [0x0A, 0x1E, 0x61, 0x7A, 0x3A, 0x31]
      var noise: [UInt8] = []
      for _ in 0..<Int.random(in: 0..<60, using: &generator) {
        noise.append(alphabet.randomElement(using: &generator)!)
      }
      let tail: [UInt8] = Array("end of stderr \(Int.random(in: 0...9, using: &generator))\n".utf8)
      let split = Int.random(in: 0...noise.count, using: &generator)
      // The noise may hold a RS byte, but never the whole prefix: the real report is found.
      let before: [UInt8] = Array(noise[..<split])
      let after: [UInt8] = Array(noise[split...])
      let stream: [UInt8] = before + Self.report + after + tail
      var cuts: [Int] = []
      for _ in 0..<Int.random(in: 0..<6, using: &generator) {
        cuts.append(Int.random(in: 0...stream.count, using: &generator))
      }
      let (delivered, group) = feed(stream, cuts: cuts)
      let expected: [UInt8] = before + after + tail
      #expect(group == 4321)
      #expect(delivered == expected)
    }
  }

  @Test("without a report, everything comes out unchanged: past the hold limit, or at the end")
  func noReport() {
    var parser = ProcessGroupReport()
    let held = parser.take(Array("short".utf8))
    #expect(held.isEmpty, "held while the report may still come")
    let flushed = parser.finish()
    #expect(flushed == Array("short".utf8))
    #expect(parser.processGroup == nil)
    var long = ProcessGroupReport()
    let big = [UInt8](repeating: 0x41, count: ProcessGroupReport.holdLimit + 1)
    let passed = long.take(big)
    #expect(passed == big)
    let more = long.take([1, 2])
    #expect(more == [1, 2], "passes through once it gave up")
  }

  @Test("malformed reports are not taken")
  func malformed() {
    for bad in ["", "0", "1", "12345678901", "12a"] {
      let stream = RemoteProcessGroup.reportPrefix + Array(bad.utf8) + [RemoteProcessGroup.reportEnd]
      let (delivered, group) = feed(stream, cuts: [])
      #expect(group == nil, "\(bad)")
      #expect(delivered == stream)
    }
  }

  @Test("the launcher line and the stop command")
  func commands() {
    let launched = RemoteProcessGroup.launching("make -j4")
    #expect(launched.hasSuffix("\nmake -j4"))
    let first = launched.split(separator: "\n")[0]
    #expect(first.hasPrefix("/bin/sh -c '") && first.hasSuffix("'"))
    #expect(!first.dropFirst(12).dropLast().contains("'") && !first.contains("!"), "one single-quoted word, no history")
    #expect(
      RemoteProcessGroup.stopCommand(signal: "TERM", groups: [12, 34])
        == "/bin/sh -c 'kill -s TERM -- -12 -34 2>/dev/null'")
  }

  /// The login shells the launcher must work with, as sshd runs them: `shell -c 'command'`.
  static let shells = ["/bin/sh", "/usr/bin/bash", "/usr/bin/zsh", "/usr/bin/fish", "/usr/bin/tcsh", "/usr/bin/csh"]

  @Test("every login shell runs the launcher and reports its own pid", arguments: shells)
  func loginShells(_ shell: String) async throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: shell)
    process.arguments = ["-c", RemoteProcessGroup.launching("echo ran")]
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    process.standardInput = FileHandle.nullDevice
    let ended = AsyncStream<Void> { continuation in
      process.terminationHandler = { _ in continuation.finish() }
    }
    try process.run()
    for await _ in ended {}
    let stdout = output.fileHandleForReading.readDataToEndOfFile()
    let stderr = Array(error.fileHandleForReading.readDataToEndOfFile())
    #expect(String(decoding: stdout, as: UTF8.self) == "ran\n", "\(shell)")
    var parser = ProcessGroupReport()
    let rest = parser.take(stderr) + parser.finish()
    #expect(parser.processGroup == process.processIdentifier, "\(shell): the shell itself leads the group")
    #expect(rest.isEmpty, "\(shell): \(String(decoding: rest, as: UTF8.self))")
  }
}
