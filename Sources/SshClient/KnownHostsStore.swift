import CLibSSH2
import Foundation
import Synchronization

/// The known_hosts file of a path, loaded once per process and shared by every connection.
///
/// libssh2 parses and matches the entries (plain, `[host]:port` and hashed `|1|` ones); this type
/// serialises access, appends new hosts to the file (one writer per process), and finds the line
/// of a mismatching entry for the error message.
final class KnownHostsStore: @unchecked Sendable {
  /// The outcome of a check.
  enum Check: Equatable {
    case match
    case mismatch(line: Int?)
    case notFound
  }

  private static let stores = Mutex<[String: KnownHostsStore]>([:])

  /// The store of `path`, loading it on first use.
  static func store(for path: String) -> KnownHostsStore {
    stores.withLock { stores in
      if let store = stores[path] { return store }
      let store = KnownHostsStore(path: path)
      stores[path] = store
      return store
    }
  }

  let path: String
  private let lock = NSLock()
  /// A session that never connects: libssh2 needs one to allocate known-hosts collections.
  private let session: OpaquePointer
  private let hosts: OpaquePointer

  private init(path: String) {
    LibSSH2.ensureInitialized()
    self.path = path
    session = libssh2_session_init_ex(nil, nil, nil, nil)
    hosts = libssh2_knownhost_init(session)
    if FileManager.default.fileExists(atPath: path) {
      _ = libssh2_knownhost_readfile(hosts, path, LIBSSH2_KNOWNHOST_FILE_OPENSSH)
    }
  }

  deinit {
    libssh2_knownhost_free(hosts)
    libssh2_session_free(session)
  }

  private static func keyBits(for hostKeyType: Int32) -> Int32 {
    switch hostKeyType {
    case 1: return LIBSSH2_KNOWNHOST_KEY_SSHRSA
    case 2: return LIBSSH2_KNOWNHOST_KEY_SSHDSS
    case 3: return LIBSSH2_KNOWNHOST_KEY_ECDSA_256
    case 4: return LIBSSH2_KNOWNHOST_KEY_ECDSA_384
    case 5: return LIBSSH2_KNOWNHOST_KEY_ECDSA_521
    case 6: return LIBSSH2_KNOWNHOST_KEY_ED25519
    default: return LIBSSH2_KNOWNHOST_KEY_UNKNOWN
    }
  }

  private static func check(
    _ hosts: OpaquePointer, host: String, port: Int, key: [UInt8], keyType: Int32
  ) -> Int32 {
    let mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | keyBits(for: keyType)
    return key.withUnsafeBufferPointer { buffer in
      buffer.withMemoryRebound(to: CChar.self) { chars in
        libssh2_knownhost_checkp(hosts, host, Int32(port), chars.baseAddress, key.count, mask, nil)
      }
    }
  }

  /// How known_hosts names a host: `host`, or `[host]:port` when the port is not 22.
  static func entryName(host: String, port: Int) -> String {
    port == 22 ? host : "[\(host)]:\(port)"
  }

  /// Checks the key a host offered.
  func check(host: String, port: Int, key: [UInt8], keyType: Int32) -> Check {
    let rc = lock.withLock { Self.check(hosts, host: host, port: port, key: key, keyType: keyType) }
    switch rc {
    case LIBSSH2_KNOWNHOST_CHECK_MATCH: return .match
    case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
      return .mismatch(line: mismatchLine(host: host, port: port, key: key, keyType: keyType))
    default: return .notFound
    }
  }

  /// Records a new host: in memory and appended to the file.
  func add(host: String, port: Int, key: [UInt8], keyType: Int32) throws {
    let name = Self.entryName(host: host, port: port)
    let mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | Self.keyBits(for: keyType)
    try lock.withLock {
      // Another connection to the same host may have recorded it meanwhile.
      if Self.check(hosts, host: host, port: port, key: key, keyType: keyType) == LIBSSH2_KNOWNHOST_CHECK_MATCH {
        return
      }
      var entry: UnsafeMutablePointer<libssh2_knownhost>?
      let rc = key.withUnsafeBufferPointer { buffer in
        buffer.withMemoryRebound(to: CChar.self) { chars in
          libssh2_knownhost_addc(hosts, name, nil, chars.baseAddress, key.count, nil, 0, mask, &entry)
        }
      }
      guard rc == 0, let entry else { throw CocoaError(.fileWriteUnknown) }
      var buffer = [CChar](repeating: 0, count: 8192)
      var length = 0
      guard
        libssh2_knownhost_writeline(hosts, entry, &buffer, buffer.count, &length, LIBSSH2_KNOWNHOST_FILE_OPENSSH) == 0
      else { throw CocoaError(.fileWriteUnknown) }
      let line = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
      try append(line: line.hasSuffix("\n") ? line : line + "\n")
    }
  }

  private func append(line: String) throws {
    let directory = (path as NSString).deletingLastPathComponent
    if !directory.isEmpty && !FileManager.default.fileExists(atPath: directory) {
      try FileManager.default.createDirectory(
        atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }
    if !FileManager.default.fileExists(atPath: path) {
      _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
    }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seekToEnd()
    // A file not ending with a newline would glue our entry to its last line.
    if let size = try? handle.offset(), size > 0 {
      let reader = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
      try reader.seek(toOffset: size - 1)
      let last = reader.readData(ofLength: 1)
      try? reader.close()
      if last != Data([0x0A]) { handle.write(Data([0x0A])) }
    }
    handle.write(Data(line.utf8))
  }

  /// The 1-based line of the file whose entry mismatches (cold path: parses lines one by one).
  private func mismatchLine(host: String, port: Int, key: [UInt8], keyType: Int32) -> Int? {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
    return lock.withLock {
      for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
        guard let single = libssh2_knownhost_init(session) else { return nil }
        defer { libssh2_knownhost_free(single) }
        let added = trimmed.withCString {
          libssh2_knownhost_readline(single, $0, strlen($0), LIBSSH2_KNOWNHOST_FILE_OPENSSH)
        }
        guard added == 0 else { continue }
        if Self.check(single, host: host, port: port, key: key, keyType: keyType) == LIBSSH2_KNOWNHOST_CHECK_MISMATCH {
          return index + 1
        }
      }
      return nil
    }
  }
}
