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
    knownHostsPath: String? = nil, connectTimeout: Duration = .seconds(60)
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

  /// Writes `bytes` random bytes to `path`, 1 MiB at a time (other tests measure memory).
  static func writeRandomFile(_ path: String, bytes: Int) throws {
    let random = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/urandom"))
    defer { try? random.close() }
    _ = FileManager.default.createFile(atPath: path, contents: nil)
    let output = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? output.close() }
    var left = bytes
    while left > 0 {
      let chunk = try random.read(upToCount: min(left, 1 << 20)) ?? Data()
      try output.write(contentsOf: chunk)
      left -= chunk.count
    }
  }

  /// Whether two files have the same bytes, compared 1 MiB at a time.
  static func sameContents(_ first: String, _ second: String) throws -> Bool {
    let a = try FileHandle(forReadingFrom: URL(fileURLWithPath: first))
    let b = try FileHandle(forReadingFrom: URL(fileURLWithPath: second))
    defer {
      try? a.close()
      try? b.close()
    }
    while true {
      let left = try a.read(upToCount: 1 << 20) ?? Data()
      let right = try b.read(upToCount: 1 << 20) ?? Data()
      if left != right { return false }
      if left.isEmpty { return true }
    }
  }

  /// A fresh temporary directory.
  /// Makes a key pair with ssh-keygen: `path` and `path.pub`.
  static func keygen(_ type: String, passphrase: String = "", at path: String) async throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
    process.arguments = ["-q", "-t", type, "-N", passphrase, "-C", "test key", "-f", path]
    let exited = AsyncStream<Int32> { continuation in
      process.terminationHandler = { process in
        continuation.yield(process.terminationStatus)
        continuation.finish()
      }
    }
    try process.run()
    for await status in exited where status != 0 {
      throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "ssh-keygen exited with \(status)"])
    }
  }

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
