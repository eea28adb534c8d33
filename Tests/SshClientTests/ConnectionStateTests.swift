import Foundation
import Synchronization
import Testbed
import Testing

@testable import SshClient

/// The life of a connection, against real sshd: one state, events in order, one attempt shared by
/// every caller, retries of what may succeed next time, attempts nobody waits for stopped.
@Suite("Connection state and events")
struct ConnectionStateTests {
  /// The events of a connection, as text.
  final class Events: Sendable {
    private let list = Mutex<[String]>([])
    func record(_ event: ConnectionEvent) {
      let text: String
      switch event {
      case .attemptFailed(let error, let retry): text = "failed(\(error.code), retry: \(retry))"
      case .lost(let error): text = "lost(\(error.code))"
      default: text = event.description
      }
      list.withLock { $0.append(text) }
    }
    var all: [String] { list.withLock { $0 } }
  }

  /// Waits (polling, at most `limit`) until `condition` holds.
  func eventually(within limit: Duration = .seconds(10), _ condition: () async -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
      if await condition() { return true }
      try await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
  }

  @Test("many callers, one attempt; events in order; close and reopen")
  func lifecycle() async throws {
    let testbed = try await TestHosts.testbed()
    let events = Events()
    let connection = SshConnection(configuration: TestHosts.configuration(testbed, host: 13)) { events.record($0) }
    #expect("\(await connection.state)" == "idle")
    try await withThrowingTaskGroup(of: Void.self) { group in
      for _ in 0..<8 { group.addTask { try await connection.connect() } }
      try await group.waitForAll()
    }
    #expect(events.all == ["connecting (1/1)", "connected"])
    #expect(await connection.isConnected)
    #expect(try await connection.run("echo up").stdoutText == "up\n")
    await connection.close()
    #expect("\(await connection.state)" == "closed")
    #expect(events.all == ["connecting (1/1)", "connected", "closed"])
    #expect(try await connection.run("echo again").stdoutText == "again\n")
    #expect(events.all == ["connecting (1/1)", "connected", "closed", "connecting (1/1)", "connected"])
    await connection.close()
  }

  @Test("a refused port is tried as many times as configured, then fails")
  func retries() async throws {
    let testbed = try await TestHosts.testbed()
    let endpoint = try testbed.refusingEndpoint()
    let events = Events()
    let connection = SshConnection(
      configuration: SshConfiguration(
        host: endpoint.address, port: Int(endpoint.port), username: testbed.username, useAgent: false,
        connectionAttempts: 3, retryDelay: .milliseconds(50))
    ) { events.record($0) }
    await #expect {
      try await connection.connect()
    } throws: { error in
      (error as? SshError)?.code == .connectionRefused
    }
    #expect(
      events.all == [
        "connecting (1/3)", "failed(connectionRefused, retry: true)", "connecting (2/3)",
        "failed(connectionRefused, retry: true)", "connecting (3/3)", "failed(connectionRefused, retry: false)",
      ])
    #expect("\(await connection.state)".hasPrefix("failed: "))
  }

  @Test("an authentication failure is not retried")
  func notRetried() async throws {
    let testbed = try await TestHosts.testbed()
    let directory = try TestHosts.temporaryDirectory()
    let key = directory + "/stranger"
    try await TestHosts.keygen("ed25519", at: key)
    var configuration = TestHosts.configuration(testbed, host: 13, keyPaths: [key])
    configuration.connectionAttempts = 3
    let events = Events()
    let connection = SshConnection(configuration: configuration) { events.record($0) }
    await #expect(throws: SshError.self) { try await connection.connect() }
    #expect(events.all == ["connecting (1/3)", "failed(authenticationFailed, retry: false)"])
  }

  @Test("when every caller gives up, the attempt stops instead of waiting for its timeout")
  func abandoned() async throws {
    let testbed = try await TestHosts.testbed()
    let endpoint = try testbed.silentEndpoint()
    let connection = SshConnection(
      configuration: SshConfiguration(
        host: endpoint.address, port: Int(endpoint.port), username: testbed.username, useAgent: false,
        connectTimeout: .seconds(60)))
    let callers = (0..<3).map { _ in Task { try await connection.connect() } }
    #expect(try await eventually { "\(await connection.state)" == "connecting" })
    for caller in callers { caller.cancel() }
    for caller in callers { await #expect(throws: CancellationError.self) { try await caller.value } }
    // Generous, one-sided: far below the 60 s the attempt would have taken.
    #expect(try await eventually(within: .seconds(20)) { "\(await connection.state)" == "idle" })
  }

  @Test("close() during an attempt ends it, and its callers hear why")
  func closeWhileConnecting() async throws {
    let testbed = try await TestHosts.testbed()
    let endpoint = try testbed.silentEndpoint()
    let connection = SshConnection(
      configuration: SshConfiguration(
        host: endpoint.address, port: Int(endpoint.port), username: testbed.username, useAgent: false,
        connectTimeout: .seconds(60)))
    let caller = Task { try await connection.connect() }
    #expect(try await eventually { "\(await connection.state)" == "connecting" })
    await connection.close()
    await #expect {
      try await caller.value
    } throws: { error in
      (error as? SshError)?.code == .disconnected
    }
    #expect("\(await connection.state)" == "closed")
  }
}
