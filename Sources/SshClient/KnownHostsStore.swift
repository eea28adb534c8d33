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
  /// The hosts (`entryName` and key) whose changed key was reported while checking was off.
  private var reportedChanges: Set<String> = []
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

  /// How OpenSSH names a host key type in its messages: `ED25519`, `RSA`, `ECDSA`, `DSA`.
  static func typeName(for hostKeyType: Int32) -> String {
    switch hostKeyType {
    case 1: return "RSA"
    case 2: return "DSA"
    case 3, 4, 5: return "ECDSA"
    case 6: return "ED25519"
    default: return "UNKNOWN"
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

  /// Whether this is the first report of `key` differing from the file for the host (while
  /// checking is off: one warning per host and key in the process).
  func firstReportOfChange(host: String, port: Int, key: [UInt8]) -> Bool {
    let entry = Self.entryName(host: host, port: port) + " " + Data(key).base64EncodedString()
    return lock.withLock { reportedChanges.insert(entry).inserted }
  }

  /// Records a new host: in memory and appended to the file. Returns false when another
  /// connection recorded it meanwhile.
  /// - Parameter createDirectory: whether a missing parent directory is made (mode 0700): only
  ///   for the default file, `~/.ssh/known_hosts`, as OpenSSH does; a path the user gave is
  ///   never given directories.
  @discardableResult
  func add(host: String, port: Int, key: [UInt8], keyType: Int32, createDirectory: Bool = false) throws -> Bool {
    let name = Self.entryName(host: host, port: port)
    let mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | Self.keyBits(for: keyType)
    return try lock.withLock {
      // Another connection to the same host may have recorded it meanwhile.
      if Self.check(hosts, host: host, port: port, key: key, keyType: keyType) == LIBSSH2_KNOWNHOST_CHECK_MATCH {
        return false
      }
      // Written first, so that a host whose key could not be written is not taken as known.
      try Self.checkWritable(path, createDirectory: createDirectory)
      var entry: UnsafeMutablePointer<libssh2_knownhost>?
      let rc = key.withUnsafeBufferPointer { buffer in
        buffer.withMemoryRebound(to: CChar.self) { chars in
          libssh2_knownhost_addc(hosts, name, nil, chars.baseAddress, key.count, nil, 0, mask, &entry)
        }
      }
      guard rc == 0, let entry else { throw KnownHostsFileError("libssh2 could not make an entry for \(name)") }
      var buffer = [CChar](repeating: 0, count: 8192)
      var length = 0
      guard
        libssh2_knownhost_writeline(hosts, entry, &buffer, buffer.count, &length, LIBSSH2_KNOWNHOST_FILE_OPENSSH) == 0
      else { throw KnownHostsFileError("libssh2 could not write the entry of \(name)") }
      let line = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
      do {
        try append(line: line.hasSuffix("\n") ? line : line + "\n")
      } catch {
        // Not written: not known either (the next connection tries again, and says why).
        libssh2_knownhost_del(hosts, entry)
        throw error
      }
      return true
    }
  }

  /// Throws unless an entry can be appended to `path`: the path must not be a directory, and its
  /// directory must exist (made when `createDirectory`).
  private static func checkWritable(_ path: String, createDirectory: Bool) throws {
    if let problem = KnownHostsFile.problem(at: path) {
      let directory = (path as NSString).deletingLastPathComponent
      guard createDirectory, !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) else {
        throw KnownHostsFileError(problem)
      }
      guard mkdir(directory, 0o700) == 0 || errno == EEXIST else {
        throw KnownHostsFileError("cannot create \(directory): \(String(cString: strerror(errno)))")
      }
    }
  }

  /// Appends `line` (with a newline before it when the file does not end with one).
  private func append(line: String) throws {
    let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw KnownHostsFileError(String(cString: strerror(errno))) }
    defer { close(fd) }
    var text = Array(line.utf8)
    var info = stat()
    if fstat(fd, &info) == 0, info.st_size > 0, (info.st_mode & S_IFMT) == S_IFREG {
      // A file not ending with a newline would glue our entry to its last line.
      var last: UInt8 = 0
      if pread(fd, &last, 1, off_t(info.st_size - 1)) == 1, last != 0x0A { text.insert(0x0A, at: 0) }
    }
    var written = 0
    while written < text.count {
      let count = text[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
      if count < 0 {
        if errno == EINTR { continue }
        throw KnownHostsFileError(String(cString: strerror(errno)))
      }
      written += count
    }
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

/// Why a known_hosts file cannot be written: what is wrong, in words.
struct KnownHostsFileError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// Checks on a known_hosts path before anything connects.
public enum KnownHostsFile {
  /// What is wrong with `path` as a known_hosts file that new hosts may be appended to, or nil:
  /// `is a directory (give the path of a file)`, `no such directory: DIR` (directories are not
  /// made for it), `DIR is not a directory`. A missing file in an existing directory is fine (it
  /// is created when the first host is recorded).
  public static func problem(at path: String) -> String? {
    var info = stat()
    if stat(path, &info) == 0 {
      return (info.st_mode & S_IFMT) == S_IFDIR ? "is a directory (give the path of a file)" : nil
    }
    guard errno == ENOENT || errno == ENOTDIR else { return String(cString: strerror(errno)) }
    let directory = (path as NSString).deletingLastPathComponent
    let parent = directory.isEmpty ? "." : directory
    guard stat(parent, &info) == 0 else { return "no such directory: \(parent)" }
    guard (info.st_mode & S_IFMT) == S_IFDIR else { return "\(parent) is not a directory" }
    return nil
  }
}
