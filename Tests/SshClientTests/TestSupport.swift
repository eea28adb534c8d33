import Foundation
import SshClient
import Testbed

/// Connections to the shared testbed's hosts, with its key and known_hosts file.
enum TestHosts {
  static func testbed(hosts: Int = 16) async throws -> Testbed {
    try await Testbed.shared(hosts: hosts)
  }

  static func configuration(
    _ testbed: Testbed, host index: Int = 0, policy: HostKeyPolicy = .strict, keyPaths: [String]? = nil,
    knownHostsPath: String? = nil, connectTimeout: Duration = .seconds(10)
  ) -> SshConfiguration {
    let host = testbed.hosts[index]
    return SshConfiguration(
      host: host.address, port: Int(host.port), username: testbed.username,
      keyPaths: keyPaths ?? [testbed.userKeyPath], useAgent: false, hostKeyPolicy: policy,
      knownHostsPath: knownHostsPath ?? testbed.knownHostsPath, connectTimeout: connectTimeout)
  }

  static func connection(_ testbed: Testbed, host index: Int = 0) -> SshConnection {
    SshConnection(configuration: configuration(testbed, host: index))
  }

  /// The resident memory of this process, in bytes (from /proc/self/statm).
  static func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
  }

  /// A fresh temporary directory.
  static func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "apssh-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }
}

/// Counts output bytes and remembers the largest chunk, without keeping the output.
final class ByteCounter: @unchecked Sendable {
  private let lock = NSLock()
  private var counts: [OutputChunk.Stream: Int] = [:]
  private var largest = 0

  func add(_ chunk: OutputChunk) {
    lock.withLock {
      counts[chunk.stream, default: 0] += chunk.bytes.count
      largest = max(largest, chunk.bytes.count)
    }
  }

  func count(_ stream: OutputChunk.Stream) -> Int { lock.withLock { counts[stream] ?? 0 } }
  var largestChunk: Int { lock.withLock { largest } }
}
