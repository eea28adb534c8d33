import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// The public keys of unencrypted OpenSSH private key files, extracted once per process.
///
/// Given no public key, `libssh2_userauth_publickey_fromfile_ex` derives it from the private key on
/// every connection, and libssh2 1.10 first tries OpenSSL 3's generic PEM decoder on the file
/// (which fails for the OpenSSH format after trying every decoder): about 40% of the client's CPU
/// in a fan-out. An `openssh-key-v1` file carries its public key in clear in its header, so this
/// type reads it there once, keeps it in an unlinked temporary file, and hands libssh2
/// that file's `/proc/self/fd/N` path as the public key. The entry is keyed by the file's identity
/// and modification time, so a rewritten key file is read anew. Encrypted keys and other formats
/// get `nil`: libssh2 keeps deriving the public key itself (and reporting passphrase errors as
/// before).
enum PublicKeyCache {
  private struct Identity: Equatable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modified: timespec

    static func == (lhs: Identity, rhs: Identity) -> Bool {
      lhs.device == rhs.device && lhs.inode == rhs.inode && lhs.size == rhs.size
        && lhs.modified.tv_sec == rhs.modified.tv_sec && lhs.modified.tv_nsec == rhs.modified.tv_nsec
    }
  }

  private struct Entry {
    var identity: Identity
    /// The path of the in-memory public key file, or nil when the key is not usable this way.
    var publicKeyPath: String?
    var fd: Int32
  }

  private static let entries = Mutex<[String: Entry]>([:])

  /// A path to the public key of the private key file `path`, or nil to let libssh2 derive it.
  static func publicKeyPath(forPrivateKey path: String) async -> String? {
    #if os(Linux)
      guard let identity = identity(of: path) else { return nil }
      if let entry = entries.withLock({ $0[path] }), entry.identity == identity { return entry.publicKeyPath }
      // First use (or a rewritten file): read it off the cooperative pool.
      let line = try? await LocalFileIO.run { publicKeyLine(ofPrivateKeyAt: path) }
      var fd: Int32 = -1
      if let line = line ?? nil {
        fd = memoryFile(containing: line)
      }
      let fresh = Entry(identity: identity, publicKeyPath: fd >= 0 ? "/proc/self/fd/\(fd)" : nil, fd: fd)
      // Another connection may have read it meanwhile. The descriptor of a replaced entry stays
      // open: a connection may still be about to open its path.
      let entry = entries.withLock { entries -> Entry in
        if let current = entries[path], current.identity == identity { return current }
        entries[path] = fresh
        return fresh
      }
      if entry.fd != fd && fd >= 0 { Glibc.close(fd) }
      return entry.publicKeyPath
    #else
      return nil
    #endif
  }

  private static func identity(of path: String) -> Identity? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return Identity(
      device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size), modified: info.st_mtim)
  }

  /// `TYPE BASE64\n` for an unencrypted `openssh-key-v1` file holding one key, else nil.
  static func publicKeyLine(ofPrivateKeyAt path: String) -> String? {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
    let begin = "-----BEGIN OPENSSH PRIVATE KEY-----"
    let end = "-----END OPENSSH PRIVATE KEY-----"
    guard let start = text.range(of: begin), let stop = text.range(of: end, range: start.upperBound..<text.endIndex)
    else { return nil }
    let body = text[start.upperBound..<stop.lowerBound].filter { !$0.isWhitespace }
    guard let data = Data(base64Encoded: String(body)) else { return nil }
    var reader = Reader(bytes: [UInt8](data))
    let magic = Array("openssh-key-v1".utf8) + [0]
    guard reader.take(magic.count) == magic,
      let cipher = reader.string(), cipher == Array("none".utf8),
      reader.string() != nil,  // KDF name
      reader.string() != nil,  // KDF options
      reader.uint32() == 1,
      let blob = reader.string(),
      let type = Self.keyType(of: blob), !type.isEmpty,
      type.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
    else { return nil }
    return String(decoding: type, as: UTF8.self) + " " + Data(blob).base64EncodedString() + "\n"
  }

  private static func keyType(of blob: [UInt8]) -> [UInt8]? {
    var reader = Reader(bytes: blob)
    return reader.string()
  }

  #if os(Linux)
    /// An anonymous file holding `contents` (created, then unlinked at once: only the descriptor,
    /// reachable as `/proc/self/fd/N`, keeps it), or -1.
    private static func memoryFile(containing contents: String) -> Int32 {
      let directory = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
      var template = Array((directory + "/apssh-public-key-XXXXXX").utf8CString)
      let fd = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
        let fd = mkstemp(buffer.baseAddress!)
        if fd >= 0 {
          _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
          unlink(buffer.baseAddress!)
        }
        return fd
      }
      guard fd >= 0 else { return -1 }
      let bytes = Array(contents.utf8)
      let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
      guard written == bytes.count else {
        Glibc.close(fd)
        return -1
      }
      return fd
    }
  #endif

  /// Reads SSH wire-format fields.
  private struct Reader {
    let bytes: [UInt8]
    var offset = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func take(_ count: Int) -> [UInt8]? {
      guard count >= 0, count <= bytes.count - offset else { return nil }
      defer { offset += count }
      return Array(bytes[offset..<offset + count])
    }

    mutating func uint32() -> UInt32? {
      guard let raw = take(4) else { return nil }
      return raw.reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func string() -> [UInt8]? {
      guard let length = uint32() else { return nil }
      return take(Int(length))
    }
  }
}
