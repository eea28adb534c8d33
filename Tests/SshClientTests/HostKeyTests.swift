import Foundation
import Synchronization
import Testing

@testable import SshClient

/// The events a connection reported, kept in order.
private final class EventLog: Sendable {
  private let events = Mutex<[ConnectionEvent]>([])
  func record(_ event: ConnectionEvent) { events.withLock { $0.append(event) } }
  var all: [ConnectionEvent] { events.withLock { $0 } }

  var recorded: [(host: String, type: String, file: String)] {
    all.compactMap {
      if case .hostKeyRecorded(let host, let type, let file) = $0 { return (host, type, file) }
      return nil
    }
  }

  var changed: [(host: String, type: String, file: String, line: Int?)] {
    all.compactMap {
      if case .hostKeyChangedUnchecked(let host, let type, let file, let line) = $0 { return (host, type, file, line) }
      return nil
    }
  }
}

@Suite("Known hosts files: checks before connecting, names and type names")
struct KnownHostsFileTests {
  @Test("a directory, a missing directory or a file on the path are named; a new file in a directory is fine")
  func problems() throws {
    let directory = try TestHosts.temporaryDirectory()
    #expect(KnownHostsFile.problem(at: directory) == "is a directory (give the path of a file)")
    #expect(KnownHostsFile.problem(at: directory + "/known_hosts") == nil)
    #expect(KnownHostsFile.problem(at: directory + "/typo/known_hosts") == "no such directory: \(directory)/typo")
    let file = directory + "/file"
    try Data().write(to: URL(fileURLWithPath: file))
    #expect(KnownHostsFile.problem(at: file) == nil)
    #expect(KnownHostsFile.problem(at: file + "/known_hosts") == "\(file) is not a directory")
    #expect(KnownHostsFile.problem(at: "/dev/null") == nil)
  }

  @Test("recording a host never makes directories for a path given; it does for the default one")
  func noDirectoriesMade() throws {
    let directory = try TestHosts.temporaryDirectory()
    let key = [UInt8](repeating: 7, count: 51)
    let typo = directory + "/typo/known_hosts"
    #expect(throws: (any Error).self) {
      try KnownHostsStore.store(for: typo).add(host: "127.0.0.9", port: 22, key: key, keyType: 6)
    }
    #expect(!FileManager.default.fileExists(atPath: directory + "/typo"))
    // A host that could not be written is not taken as known either.
    #expect(KnownHostsStore.store(for: typo).check(host: "127.0.0.9", port: 22, key: key, keyType: 6) == .notFound)
    #expect(throws: (any Error).self) {
      try KnownHostsStore.store(for: directory).add(host: "127.0.0.9", port: 22, key: key, keyType: 6)
    }
    let made = directory + "/dot-ssh/known_hosts"
    #expect(
      try KnownHostsStore.store(for: made).add(
        host: "127.0.0.9", port: 2222, key: key, keyType: 6,
        createDirectory: true))
    let text = try String(contentsOfFile: made, encoding: .utf8)
    #expect(text.hasPrefix("[127.0.0.9]:2222 ssh-ed25519 "))
    var info = stat()
    #expect(stat(directory + "/dot-ssh", &info) == 0 && info.st_mode & 0o777 == 0o700)
    // Recorded once: a second add of the same key is not a new record.
    #expect(
      try KnownHostsStore.store(for: made).add(host: "127.0.0.9", port: 2222, key: key, keyType: 6) == false)
  }

  @Test("key types and hosts are named as OpenSSH names them")
  func names() {
    #expect(KnownHostsStore.typeName(for: 6) == "ED25519")
    #expect(KnownHostsStore.typeName(for: 1) == "RSA")
    #expect([3, 4, 5].map(KnownHostsStore.typeName(for:)) == ["ECDSA", "ECDSA", "ECDSA"])
    #expect(KnownHostsStore.entryName(host: "127.0.0.2", port: 2222) == "[127.0.0.2]:2222")
    #expect(KnownHostsStore.entryName(host: "h.example.org", port: 22) == "h.example.org")
  }
}

@Suite("Host key events: recorded keys and changed keys let through")
struct HostKeyEventTests {
  @Test("accept-new reports each host it records, once, with the name and type OpenSSH uses")
  func recordedOnce() async throws {
    let testbed = try await TestHosts.testbed()
    let knownHosts = try TestHosts.temporaryDirectory() + "/known_hosts"
    let log = EventLog()
    for _ in 0..<2 {
      for index in [13, 14] {
        let connection = SshConnection(
          configuration: TestHosts.configuration(testbed, host: index, policy: .acceptNew, knownHostsPath: knownHosts),
          onEvent: log.record)
        try await connection.connect()
        await connection.close()
      }
    }
    let recorded = log.recorded
    #expect(recorded.count == 2, "\(log.all)")
    let names = recorded.map(\.host)
    #expect(names == [13, 14].map { "[\(testbed.hosts[$0].address)]:\(testbed.hosts[$0].port)" })
    #expect(recorded.allSatisfy { $0.type == "ED25519" && $0.file == knownHosts })
  }

  @Test("with checking off, a changed key is reported once, and the connection goes on")
  func changedKeyUnchecked() async throws {
    let testbed = try await TestHosts.testbed()
    let host = testbed.hosts[14]
    let knownHosts = try await testbed.knownHostsWithWrongKey(for: host)
    let log = EventLog()
    for index in [14, 14, 13] {
      let connection = SshConnection(
        configuration: TestHosts.configuration(testbed, host: index, policy: .off, knownHostsPath: knownHosts),
        onEvent: log.record)
      #expect(try await connection.run("echo ok").stdoutText == "ok\n")
      await connection.close()
    }
    let changed = log.changed
    #expect(changed.count == 1, "\(log.all)")
    #expect(changed.first?.host == "[\(host.address)]:\(host.port)")
    #expect(changed.first?.type == "ED25519" && changed.first?.file == knownHosts)
    #expect(changed.first?.line == 15)
    #expect(log.recorded.isEmpty)
  }
}
