import Foundation
import Testing

@testable import SshClient

@Suite("Short sends: a small socket send buffer")
struct ShortSendTests {
  @Test("with sends falling short all the time, a file and concurrent commands all get through")
  func smallSendBuffer() async throws {
    let testbed = try await TestHosts.testbed()
    var configuration = TestHosts.configuration(testbed, host: 6)
    configuration.socketSendBufferSize = 4096
    let connection = SshConnection(configuration: configuration)
    let directory = try TestHosts.temporaryDirectory()
    let original = directory + "/upload.bin"
    try TestHosts.writeRandomFile(original, bytes: 8_000_000)
    // Long command lines go out while the upload keeps the socket buffer full; channels close
    // (EOF and CLOSE packets, which libssh2 1.10 builds on the stack) while it is full. Before the
    // send queue, one run in three here failed with "Unable to send channel-open
    // request" (libssh2's LIBSSH2_ERROR_BAD_USE).
    let argument = String(repeating: "x", count: 20_000)
    for _ in 0..<3 {
      let remote = "apssh-short-send-\(UUID().uuidString).bin"
      async let sent = connection.put([original], to: remote)
      let outputs = try await withThrowingTaskGroup(of: String.self) { group in
        for _ in 0..<8 {
          group.addTask { try await connection.run("echo \(argument) | wc -c").stdoutText }
        }
        var outputs: [String] = []
        for try await output in group { outputs.append(output) }
        return outputs
      }
      #expect(try await sent == 8_000_000)
      #expect(outputs == Array(repeating: "20001\n", count: 8))
      let back = directory + "/back.bin"
      #expect(try await connection.get([remote], to: back) == 8_000_000)
      #expect(try TestHosts.sameContents(original, back))
      _ = try await connection.run("rm -f \(remote)")
    }
    // The path under test was taken: libssh2 met full socket buffers.
    #expect(connection.io.pointee.shortSends > 0)
    #expect(connection.io.pointee.pendingCount == 0)
    await connection.close()
  }
}
