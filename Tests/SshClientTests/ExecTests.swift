import Foundation
import SshClient
import Testbed
import Testing

@Suite("Exec on testbed hosts")
struct ExecTests {
  @Test("exit statuses 0, 1 and 232 (exit 1000)", arguments: [("true", 0), ("false", 1), ("exit 1000", 232)])
  func exitStatuses(command: String, expected: Int32) async throws {
    let testbed = try await TestHosts.testbed()
    let connection = TestHosts.connection(testbed, host: 1)
    let result = try await connection.run(command)
    #expect(result.status == .code(expected))
    await connection.close()
  }

  @Test("a process killed by TERM gives the signal name")
  func signal() async throws {
    let testbed = try await TestHosts.testbed()
    let connection = TestHosts.connection(testbed, host: 2)
    let result = try await connection.run("kill -TERM $$")
    #expect(result.status == .signal("TERM"))
    #expect(result.status.description == "SIGTERM")
    await connection.close()
  }

  @Test("stdout and stderr are kept apart")
  func streamsApart() async throws {
    let testbed = try await TestHosts.testbed()
    let connection = TestHosts.connection(testbed, host: 3)
    let result = try await connection.run("echo out1; echo err1 >&2; echo out2; echo err2 >&2; exit 3")
    #expect(result.stdoutText == "out1\nout2\n")
    #expect(result.stderrText == "err1\nerr2\n")
    #expect(result.status == .code(3))
    await connection.close()
  }

  /// Memory is measured for the whole process, where other tests run at the same time: the output
  /// is much larger than the bound, which a version that kept it would exceed whatever the others do.
  @Test("120 MB of stdout are streamed in bounded chunks and memory")
  func largeOutput() async throws {
    let testbed = try await TestHosts.testbed()
    let connection = TestHosts.connection(testbed, host: 4)
    let counter = ByteCounter()
    let before = TestHosts.residentBytes()
    let status = try await connection.execute("head -c 120000000 /dev/zero; echo done >&2") { chunk in
      counter.add(chunk)
    }
    let growth = TestHosts.residentBytes() - before
    #expect(status == .code(0))
    #expect(counter.count(.stdout) == 120_000_000)
    #expect(counter.count(.stderr) == 5)
    #expect(counter.largestChunk <= 64 * 1024)
    #expect(growth < 70_000_000, "resident memory grew by \(growth) bytes")
    await connection.close()
  }

  @Test("30 concurrent commands on one connection with MaxSessions 10 all succeed")
  func concurrentCommands() async throws {
    let testbed = try await TestHosts.testbed()
    let connection = TestHosts.connection(testbed, host: 5)
    let outputs = try await withThrowingTaskGroup(of: (Int, CommandResult).self) { group in
      for index in 0..<30 {
        group.addTask { (index, try await connection.run("sleep 0.2; echo \(index)")) }
      }
      var outputs: [Int: CommandResult] = [:]
      for try await (index, result) in group { outputs[index] = result }
      return outputs
    }
    #expect(outputs.count == 30)
    for (index, result) in outputs {
      #expect(result.status == .code(0))
      #expect(result.stdoutText == "\(index)\n")
    }
    #expect(await connection.connectionCount == 1)
    await connection.close()
  }

  @Test("a PTY merges stderr into the terminal output")
  func pty() async throws {
    let testbed = try await TestHosts.testbed()
    let connection = TestHosts.connection(testbed, host: 6)
    let result = try await connection.run("test -t 1 && echo tty; echo err >&2", pty: true)
    #expect(result.stdoutText.contains("tty"))
    #expect(result.stdoutText.contains("err"))
    #expect(result.stderr.isEmpty)
    await connection.close()
  }

  @Test("a command timeout fails fast and the connection stays usable")
  func commandTimeout() async throws {
    let testbed = try await TestHosts.testbed()
    let connection = TestHosts.connection(testbed, host: 7)
    let start = ContinuousClock.now
    await #expect {
      _ = try await connection.run("sleep 120", timeout: .milliseconds(300))
    } throws: { error in
      (error as? SshError)?.code == .commandTimeout
    }
    #expect(ContinuousClock.now - start < .seconds(60))  // not waiting for the command to end
    let after = try await connection.run("echo still")
    #expect(after.stdoutText == "still\n")
    await connection.close()
  }

  @Test("a closed connection reopens on next use")
  func reopen() async throws {
    let testbed = try await TestHosts.testbed()
    let connection = TestHosts.connection(testbed, host: 8)
    #expect(try await connection.run("echo one").stdoutText == "one\n")
    await connection.close()
    #expect(await connection.isConnected == false)
    #expect(try await connection.run("echo two").stdoutText == "two\n")
    #expect(await connection.connectionCount == 2)
    await connection.close()
  }
}

/// Heavy tests, run apart from the timing checks (see the Makefile).
@Suite("LoadTests: many connections at once")
struct LoadTests {
  @Test("200 concurrent connections to the testbed all succeed")
  func manyConnections() async throws {
    let testbed = try await TestHosts.testbed()
    let results = try await withThrowingTaskGroup(of: String.self) { group in
      for index in 0..<200 {
        group.addTask {
          let connection = TestHosts.connection(testbed, host: index % testbed.hosts.count)
          let result = try await connection.run("echo \(index)")
          await connection.close()
          return result.stdoutText
        }
      }
      var results: Set<String> = []
      for try await text in group { results.insert(text) }
      return results
    }
    #expect(results.count == 200)
  }
}
