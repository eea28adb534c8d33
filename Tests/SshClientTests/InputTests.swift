import Foundation
import Testbed
import Testing

@testable import SshClient

/// What a remote command reads on stdin: end-of-file by default, bytes streamed otherwise.
@Suite("Command input")
struct InputTests {
  @Test("without input, a command reading stdin gets end-of-file at once")
  func noInput() async throws {
    let testbed = try await TestHosts.testbed()
    let connection = TestHosts.connection(testbed, host: 3)
    let result = try await connection.run("cat; echo done")
    #expect(result.stdoutText == "done\n")
    await connection.close()
  }

  @Test("bytes, small and large, arrive whole, then end-of-file")
  func bytes() async throws {
    let testbed = try await TestHosts.testbed()
    let connection = TestHosts.connection(testbed, host: 3)
    var small: [UInt8] = []
    let collect = Collected()
    _ = try await connection.execute("cat", stdin: .bytes(Array("hello\nworld".utf8))) { collect.add($0) }
    small = collect.stdout
    #expect(small == Array("hello\nworld".utf8))
    // 12 MB: many times the channel window, so sending waits for the remote side to read.
    var large = [UInt8](repeating: 0, count: 12 << 20)
    for index in stride(from: 0, to: large.count, by: 4096) { large[index] = UInt8(truncatingIfNeeded: index / 4096) }
    let digest = Collected()
    let status = try await connection.execute("wc -c; cksum", stdin: .bytes(large)) { digest.add($0) }
    #expect(status == .code(0))
    let lines = String(decoding: digest.stdout, as: UTF8.self).split(separator: "\n")
    #expect(lines.first == "\(large.count)")
    await connection.close()
  }

  @Test("a command that reads nothing, or stops reading, ends normally")
  func notRead() async throws {
    let testbed = try await TestHosts.testbed()
    let connection = TestHosts.connection(testbed, host: 4)
    let input = CommandInput.bytes([UInt8](repeating: 65, count: 8 << 20))
    #expect(try await connection.execute("true", stdin: input) { _ in } == .code(0))
    #expect(try await connection.execute("head -c 10 >/dev/null; exit 4", stdin: input) { _ in } == .code(4))
    #expect(try await connection.run("echo still usable").stdoutText == "still usable\n")
    await connection.close()
  }

  @Test("an input that fails makes the command fail")
  func failingInput() async throws {
    struct Broken: Error {}
    let testbed = try await TestHosts.testbed()
    let connection = TestHosts.connection(testbed, host: 4)
    let input = CommandInput { { throw Broken() } }
    await #expect(throws: Broken.self) { try await connection.execute("cat", stdin: input) { _ in } }
    await connection.close()
  }
}

/// The stdout of a command, collected.
final class Collected: @unchecked Sendable {
  private let lock = NSLock()
  private var bytes: [UInt8] = []
  func add(_ chunk: OutputChunk) { if chunk.stream == .stdout { lock.withLock { bytes += chunk.bytes } } }
  var stdout: [UInt8] { lock.withLock { bytes } }
}
