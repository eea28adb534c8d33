import Foundation
import Testbed
import Testing

@testable import SshClient

#if canImport(Glibc)
  import Glibc
#endif

/// The ssh-agent, talked to without blocking: a real agent signs; a stuck one costs a bounded
/// wait, then the key files are tried; cancelling cuts it at once.
@Suite("ssh-agent")
struct AgentTests {
  /// A Unix socket that accepts connections (its backlog does) and never answers.
  final class StuckAgent: @unchecked Sendable {
    let path: String
    let fd: Int32

    init() throws {
      path = try TestHosts.temporaryDirectory() + "/stuck.sock"
      fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
      var address = sockaddr_un()
      address.sun_family = sa_family_t(AF_UNIX)
      withUnsafeMutableBytes(of: &address.sun_path) { raw in
        raw.copyBytes(from: Array(path.utf8))
        raw[path.utf8.count] = 0
      }
      let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
      }
      guard bound == 0, listen(fd, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
    }

    deinit { close(fd) }
  }

  /// Starts a real ssh-agent holding `key`; returns its socket and the process.
  static func realAgent(key: String) async throws -> (String, Process) {
    let socket = try TestHosts.temporaryDirectory() + "/agent.sock"
    let agent = Process()
    agent.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-agent")
    agent.arguments = ["-D", "-a", socket]
    agent.standardOutput = FileHandle.nullDevice
    agent.standardError = FileHandle.nullDevice
    try agent.run()
    let deadline = ContinuousClock.now + .seconds(10)
    while !FileManager.default.fileExists(atPath: socket), ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(20))
    }
    let add = Process()
    add.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-add")
    add.arguments = [key]
    add.environment = ["SSH_AUTH_SOCK": socket]
    add.standardOutput = FileHandle.nullDevice
    add.standardError = FileHandle.nullDevice
    let done = AsyncStream<Void> { continuation in add.terminationHandler = { _ in continuation.finish() } }
    try add.run()
    for await _ in done {}
    return (socket, agent)
  }

  func configuration(_ testbed: Testbed, agent: String, keys: [String]) -> SshConfiguration {
    var configuration = TestHosts.configuration(testbed, host: 5, keyPaths: keys, connectTimeout: .seconds(60))
    configuration.useAgent = true
    configuration.agentPath = agent
    return configuration
  }

  @Test("a real agent signs, with no key file at all")
  func realAgent() async throws {
    let testbed = try await TestHosts.testbed()
    let (socket, agent) = try await Self.realAgent(key: testbed.userKeyPath)
    defer { agent.terminate() }
    let connection = SshConnection(configuration: configuration(testbed, agent: socket, keys: ["/nonexistent/key"]))
    #expect(try await connection.run("echo signed").stdoutText == "signed\n")
    await connection.close()
  }

  @Test("a stuck agent costs a bounded wait, then the key files are tried")
  func stuckAgentFallsBack() async throws {
    let testbed = try await TestHosts.testbed()
    let stuck = try StuckAgent()
    let connection = SshConnection(
      configuration: configuration(testbed, agent: stuck.path, keys: [testbed.userKeyPath]))
    let start = ContinuousClock.now
    #expect(try await connection.run("echo by key").stdoutText == "by key\n")
    // One-sided: not the 60 s connect timeout (the agent gets 5 s).
    #expect(ContinuousClock.now - start < .seconds(40))
    await connection.close()
  }

  @Test("cancelling cuts a stuck agent exchange at once")
  func cancelStuckAgent() async throws {
    let testbed = try await TestHosts.testbed()
    let stuck = try StuckAgent()
    let connection = SshConnection(
      configuration: configuration(testbed, agent: stuck.path, keys: [testbed.userKeyPath]))
    let caller = Task { try await connection.connect() }
    let deadline = ContinuousClock.now + .seconds(10)
    while "\(await connection.state)" != "connecting", ContinuousClock.now < deadline { await Task.yield() }
    try await Task.sleep(for: .milliseconds(300))  // into the agent exchange (which never answers)
    caller.cancel()
    await #expect(throws: CancellationError.self) { try await caller.value }
    // The attempt itself stopped: it never went on to the key file and connected.
    let settle = ContinuousClock.now + .seconds(10)
    while "\(await connection.state)" == "connecting", ContinuousClock.now < settle {
      try await Task.sleep(for: .milliseconds(20))
    }
    #expect("\(await connection.state)" == "idle")
  }
}
