import Foundation
import Testbed
import Testing

@testable import SshClient

/// Remote commands stopped when their caller gives up: cancellation and timeouts, one command or
/// a connection full of them. The testbed's hosts are local processes, so `/proc` shows them.
@Suite("Stopping remote commands")
struct RemoteStopTests {
  /// How many processes run exactly `command`.
  static func processes(_ command: String) -> Int {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.filter { Int($0) != nil }.filter { pid in
      guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
      return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ") == command
    }.count
  }

  /// Waits (polling, at most `limit`: generous, for a loaded machine) until `count` processes run
  /// `command`.
  static func waitFor(_ command: String, count: Int, within limit: Duration = .seconds(60)) async throws -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
      if processes(command) == count { return true }
      try await Task.sleep(for: .milliseconds(50))
    }
    return processes(command) == count
  }

  /// A sleep nobody else runs.
  static func uniqueSleep() -> String { "sleep 61.\(Int.random(in: 100_000...999_999))" }

  @Test("a cancelled command's whole process group is stopped")
  func cancelled() async throws {
    let testbed = try await TestHosts.testbed()
    let connection = TestHosts.connection(testbed, host: 14)
    let sleep = Self.uniqueSleep()
    // A background child and a foreground one: both are in the session's process group.
    let command = Task { try await connection.execute("\(sleep) & \(sleep); wait") { _ in } }
    #expect(try await Self.waitFor(sleep, count: 2))
    command.cancel()
    await #expect(throws: CancellationError.self) { try await command.value }
    #expect(try await Self.waitFor(sleep, count: 0))
    await connection.close()
  }

  @Test("a timed-out command is stopped; without stopsRemoteProcess it is left running")
  func timedOut() async throws {
    let testbed = try await TestHosts.testbed()
    let connection = TestHosts.connection(testbed, host: 14)
    let sleep = Self.uniqueSleep()
    await #expect {
      _ = try await connection.execute(sleep, timeout: .milliseconds(500)) { _ in }
    } throws: { error in
      let error = error as? SshError
      return error?.code == .commandTimeout && error?.message.contains("500ms") == true
    }
    #expect(try await Self.waitFor(sleep, count: 0))

    let left = Self.uniqueSleep()
    await #expect(throws: SshError.self) {
      _ = try await connection.execute(left, timeout: .milliseconds(500), stopsRemoteProcess: false) { _ in }
    }
    #expect(Self.processes(left) == 1, "the mechanism is what stops it")
    _ = try await connection.run("pkill -f '\(left)'")
    #expect(try await Self.waitFor(left, count: 0))
    await connection.close()
  }

  @Test("a connection full of cancelled commands still stops them all (the spare session)")
  func fullConnection() async throws {
    let testbed = try await TestHosts.testbed()
    let connection = TestHosts.connection(testbed, host: 15)
    let sleep = Self.uniqueSleep()
    // MaxSessions 10: nine commands take every session but the spare one.
    let commands = (0..<9).map { _ in Task { try await connection.execute(sleep) { _ in } } }
    #expect(try await Self.waitFor(sleep, count: 9))
    for command in commands { command.cancel() }
    #expect(try await Self.waitFor(sleep, count: 0))
    // And the connection goes on working.
    #expect(try await connection.run("echo still here").stdoutText == "still here\n")
    await connection.close()
  }

  @Test("the launcher's report never shows in stderr")
  func stderrUntouched() async throws {
    let testbed = try await TestHosts.testbed()
    let connection = TestHosts.connection(testbed, host: 15)
    let result = try await connection.run("echo out; echo err >&2; printf 'no newline' >&2")
    #expect(result.stdoutText == "out\n")
    #expect(result.stderrText == "err\nno newline")
    await connection.close()
  }
}
