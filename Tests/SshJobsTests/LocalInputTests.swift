import Foundation
import Testing

@testable import SshJobs

#if canImport(Glibc)
  import Glibc
#endif

/// Inputs many commands read, each from the start: files, and a pipe copied as it comes.
@Suite struct LocalInputTests {
  /// Everything a reader of `input` gets.
  func drain(_ input: CommandInput) async throws -> [UInt8] {
    let reader = try #require(input.makeReader?())
    var bytes: [UInt8] = []
    while let chunk = try await reader() { bytes += chunk }
    return bytes
  }

  @Test func aFileIsReadWholeByEveryReader() async throws {
    let path = NSTemporaryDirectory() + "input-\(UUID().uuidString)"
    let content = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    try Data(content).write(to: URL(fileURLWithPath: path))
    let input = try CommandInput.file(path)
    async let first = drain(input)
    async let second = drain(input)
    #expect(try await first == content)
    #expect(try await second == content)
    #expect(throws: CommandError.self) { try CommandInput.file(path + ".missing") }
  }

  @Test func aPipeIsCopiedOnceAndEveryReaderGetsAllOfItEvenLate() async throws {
    var fds: [Int32] = [-1, -1]
    #expect(pipe(&fds) == 0)
    let shared = try SharedInput(copying: fds[0])
    let early = Task { try await drain(shared.input) }
    let first = Array("first part\n".utf8)
    _ = first.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
    let second = [UInt8](repeating: 0x42, count: 300_000)
    // Written from another thread: the pipe holds less than that.
    let writeEnd = fds[1]
    let writer = Thread {
      second.withUnsafeBytes { buffer in
        var done = 0
        while done < buffer.count { done += max(0, write(writeEnd, buffer.baseAddress! + done, buffer.count - done)) }
      }
      close(writeEnd)
    }
    writer.start()
    #expect(try await early.value == first + second)
    #expect(try await drain(shared.input) == first + second, "a reader that starts after the end")
    close(fds[0])
  }

  /// A command that exits without reading its input: the rest of the input is dropped, and the
  /// process goes on (a write to the closed pipe fails with EPIPE instead of killing it).
  @Test func aCommandThatReadsNothingEndsQuietly() async throws {
    let node = LocalNode(formatter: HostFormatter(sink: BufferSink()))
    for _ in 0..<3 {
      let status = try await node.execute(
        "exit 3", timeout: .seconds(60), input: .bytes([UInt8](repeating: 65, count: 4 << 20))
      ) { _, _ in }
      #expect(status == .code(3))
    }
  }

  @Test func aLocalCommandReadsItsInput() async throws {
    let node = LocalNode(formatter: HostFormatter(sink: BufferSink()))
    let capture = Capture("out", in: Variables())
    let job = SshJob(node: node, commands: [Run("tr a-z A-Z", capture: capture, stdin: .bytes(Array("shout\n".utf8)))])
    _ = try await job.run()
    #expect(capture.variables["out"] == "SHOUT")
  }
}
