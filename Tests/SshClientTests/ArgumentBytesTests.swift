import TestSupport
import Testing

@testable import SshClient

/// Command-line bytes that are not UTF-8 go to the remote side as they were.
@Suite("Argument bytes")
struct ArgumentBytesTests {
  @Test("any bytes survive the round trip; UTF-8 text is unchanged")
  func roundTrip() {
    var generator = SeededRandom(seed: 104)
    for _ in 0..<2000 {
      let bytes = (0..<Int.random(in: 0...40, using: &generator)).map { _ in
        UInt8.random(in: 1...255, using: &generator)
      }
      #expect(String(argumentBytes: bytes).wireBytes == bytes)
    }
    #expect(String(argumentBytes: Array("héllo wörld ✓".utf8)) == "héllo wörld ✓")
    #expect(String(argumentBytes: [0x63, 0xE9, 0x20]).wireBytes == [0x63, 0xE9, 0x20])
  }
}
