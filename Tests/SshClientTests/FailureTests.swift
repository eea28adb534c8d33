import Foundation
import SshClient
import Testbed
import Testing

@Suite("Connection failures")
struct FailureTests {
  @Test("a refused port fails within 1 s")
  func refused() async throws {
    let testbed = try await TestHosts.testbed()
    let endpoint = try testbed.refusingEndpoint()
    let connection = SshConnection(
      configuration: SshConfiguration(
        host: endpoint.address, port: Int(endpoint.port), username: testbed.username, useAgent: false,
        connectTimeout: .seconds(60)))
    let start = ContinuousClock.now
    await #expect {
      try await connection.connect()
    } throws: { error in
      let error = error as? SshError
      return error?.code == .connectionRefused && error?.host.contains(endpoint.address) == true
    }
    #expect(ContinuousClock.now - start < .seconds(30))  // refused at once, not the 60 s connect timeout
  }

  @Test("a silent listener honours the connect timeout")
  func silentListener() async throws {
    let testbed = try await TestHosts.testbed()
    let endpoint = try testbed.silentEndpoint()
    let connection = SshConnection(
      configuration: SshConfiguration(
        host: endpoint.address, port: Int(endpoint.port), username: testbed.username, useAgent: false,
        connectTimeout: .milliseconds(500)))
    let start = ContinuousClock.now
    await #expect {
      try await connection.connect()
    } throws: { error in
      (error as? SshError)?.code == .connectTimeout
    }
    let elapsed = ContinuousClock.now - start
    #expect(elapsed >= .milliseconds(400))
    #expect(elapsed < .seconds(20))  // generous: the timer may fire late on a loaded machine
  }

  @Test("a cancelled caller stops waiting for a connection attempt at once")
  func cancelledConnect() async throws {
    let testbed = try await TestHosts.testbed()
    let endpoint = try testbed.silentEndpoint()
    let connection = SshConnection(
      configuration: SshConfiguration(
        host: endpoint.address, port: Int(endpoint.port), username: testbed.username, useAgent: false,
        connectTimeout: .seconds(120)))
    let first = Task { try await connection.connect() }
    let second = Task { try await connection.connect() }
    try await Task.sleep(for: .milliseconds(300))
    let start = ContinuousClock.now
    first.cancel()
    second.cancel()
    for waiter in [first, second] {
      await #expect(throws: CancellationError.self) { try await waiter.value }
    }
    #expect(ContinuousClock.now - start < .seconds(30), "the callers waited for the 120 s connect timeout")
  }

  @Test("a wrong key gives an authentication error naming the key")
  func wrongKey() async throws {
    let testbed = try await TestHosts.testbed()
    let directory = try TestHosts.temporaryDirectory()
    let key = directory + "/other_key"
    try await TestHosts.keygen("ed25519", at: key)
    let connection = SshConnection(configuration: TestHosts.configuration(testbed, host: 9, keyPaths: [key]))
    await #expect {
      try await connection.connect()
    } throws: { error in
      let error = error as? SshError
      return error?.code == .authenticationFailed && error?.message.contains(key) == true
    }
  }

  @Test("an encrypted key works with its passphrase and says so without it")
  func encryptedKey() async throws {
    let testbed = try await TestHosts.testbed()
    var configuration = TestHosts.configuration(testbed, host: 10, keyPaths: [testbed.encryptedKeyPath])
    configuration.passphrase = { _ in testbed.keyPassphrase }
    let connection = SshConnection(configuration: configuration)
    #expect(try await connection.run("echo ok").stdoutText == "ok\n")
    await connection.close()

    configuration.passphrase = { _ in nil }
    let without = SshConnection(configuration: configuration)
    await #expect {
      try await without.connect()
    } throws: { error in
      (error as? SshError)?.code == .authenticationFailed
    }
  }

  @Test("a changed host key is refused with the file and line to fix")
  func changedHostKey() async throws {
    let testbed = try await TestHosts.testbed()
    let host = testbed.hosts[11]
    let knownHosts = try await testbed.knownHostsWithWrongKey(for: host)
    let connection = SshConnection(
      configuration: TestHosts.configuration(testbed, host: 11, policy: .acceptNew, knownHostsPath: knownHosts))
    await #expect {
      try await connection.connect()
    } throws: { error in
      let error = error as? SshError
      return error?.code == .hostKeyMismatch && error?.message.contains("\(knownHosts) line 12") == true
    }
  }

  @Test("accept-new records an unknown host; strict refuses it")
  func unknownHost() async throws {
    let testbed = try await TestHosts.testbed()
    let directory = try TestHosts.temporaryDirectory()
    let knownHosts = directory + "/known_hosts"
    let strict = SshConnection(
      configuration: TestHosts.configuration(testbed, host: 12, policy: .strict, knownHostsPath: knownHosts))
    await #expect {
      try await strict.connect()
    } throws: { error in
      (error as? SshError)?.code == .hostKeyUnknown
    }
    let acceptNew = SshConnection(
      configuration: TestHosts.configuration(testbed, host: 12, policy: .acceptNew, knownHostsPath: knownHosts))
    try await acceptNew.connect()
    await acceptNew.close()
    let recorded = try String(contentsOfFile: knownHosts, encoding: .utf8)
    let host = testbed.hosts[12]
    #expect(recorded.hasPrefix("[\(host.address)]:\(host.port) ssh-ed25519 "))
    // Now known: a strict connection through a fresh store of the same file would accept it too.
    let again = SshConnection(
      configuration: TestHosts.configuration(testbed, host: 12, policy: .strict, knownHostsPath: knownHosts))
    try await again.connect()
    await again.close()
  }

  @Test("sshd killed mid-command gives an error, not a hang")
  func sshdKilled() async throws {
    let testbed = try await TestHosts.testbed()
    let killable = try await testbed.startKillableHost()
    let connection = SshConnection(
      configuration: SshConfiguration(
        host: killable.host.address, port: Int(killable.host.port), username: testbed.username,
        keyPaths: [testbed.userKeyPath], useAgent: false, knownHostsPath: testbed.knownHostsPath))
    try await connection.connect()
    let start = ContinuousClock.now
    let command = Task { try await connection.execute("echo started; sleep 120") { _ in } }
    // Kill once the command runs: its output proves it started.
    let probe = try await connection.run("echo probe")
    #expect(probe.stdoutText == "probe\n")
    await killable.kill()
    let outcome = await command.result
    #expect(throws: SshError.self) { try outcome.get() }
    if case .failure(let error as SshError) = outcome { #expect(error.code == .disconnected) }
    #expect(ContinuousClock.now - start < .seconds(60))  // not waiting for the command to end
  }
}
