import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// What a file given as a private key holds, as far as authentication is concerned.
public enum KeyFileKind: Sendable, Equatable {
  /// An `openssh-key-v1` private key (`ssh-keygen`'s format since OpenSSH 7.8); its type as in
  /// `ssh-ed25519`, when it could be read.
  case openSSH(type: String?, encrypted: Bool)
  /// A PEM private key; the word of its `BEGIN` line (`RSA`, `EC`, `DSA`; empty for PKCS #8).
  case pem(label: String, encrypted: Bool)
  /// A public key (a `.pub` file, an `authorized_keys` line, a certificate, an RFC 4716 or PEM
  /// public key).
  case publicKey
  /// A PuTTY `.ppk` file.
  case puttyKey
  /// An `openssh-key-v1` header around a body that does not decode.
  case damagedOpenSSH
  /// Nothing but white space.
  case empty
  /// Anything else.
  case other

  /// Whether the key needs a passphrase.
  public var isEncrypted: Bool {
    switch self {
    case .openSSH(_, let encrypted), .pem(_, let encrypted): return encrypted
    default: return false
    }
  }

  /// Whether this is a private key (encrypted or not) that libssh2 can read.
  public var isPrivateKey: Bool {
    switch self {
    case .openSSH, .pem: return true
    default: return false
    }
  }
}

/// Why a file cannot serve as a private key: each case's text says what is wrong.
public enum KeyFileProblem: Error, Sendable, Equatable, CustomStringConvertible {
  /// The file does not exist (or a directory on its path does not).
  case noSuchFile
  /// The file may not be read.
  case permissionDenied
  /// The path is a directory.
  case isDirectory
  /// The path is a device, a FIFO or a socket.
  case notRegularFile
  /// Reading failed with this `errno` (`EMFILE`, `EIO`…).
  case systemError(Int32)
  /// A public key; `hasPubSuffix` when the name ends with `.pub` (the private key is usually the
  /// same name without it).
  case publicKey(hasPubSuffix: Bool)
  /// Not a key libssh2 can read, with a hint when the file says what it is.
  case notPrivateKey(detail: String?)
  /// An encrypted key, and no passphrase was given.
  case encrypted

  /// `no such file`, `is a directory`, `not a private key (it is a public key…)`, …
  public var description: String {
    switch self {
    case .noSuchFile: return "no such file"
    case .permissionDenied: return "permission denied"
    case .isDirectory: return "is a directory"
    case .notRegularFile: return "not a regular file"
    case .systemError(let code): return "cannot be read: \(String(cString: strerror(code)))"
    case .publicKey(let hasPubSuffix):
      return "not a private key (it is a public key" + (hasPubSuffix ? ": use the file without .pub)" : ")")
    case .notPrivateKey(let detail): return "not an OpenSSH/PEM private key" + (detail.map { " (\($0))" } ?? "")
    case .encrypted: return "encrypted: set APSSH_KEY_PASSPHRASE"
    }
  }

  /// Whether the problem comes from the system rather than from the file (worth trying again later).
  public var isSystemError: Bool {
    if case .systemError = self { return true }
    return false
  }
}

/// Reads and recognises private key files, so that a wrong file is named with what is wrong with
/// it before any connection, rather than reported by libssh2 as a file error on every host.
public enum KeyFile {
  /// Larger files are not keys (a 16384-bit RSA key is about 13 KB).
  public static let sizeLimit = 1 << 20

  /// What `bytes` hold (pure: no I/O).
  public static func classify(_ bytes: [UInt8]) -> KeyFileKind {
    if bytes.allSatisfy({ $0 == 0x20 || (0x09...0x0D).contains($0) }) { return .empty }
    let text = String(decoding: bytes, as: UTF8.self)
    if text.contains("-----BEGIN OPENSSH PRIVATE KEY-----") { return openSSHKind(text) }
    for label in ["RSA", "EC", "DSA", ""] {
      let begin = "-----BEGIN \(label.isEmpty ? "" : label + " ")PRIVATE KEY-----"
      if text.contains(begin) {
        return .pem(label: label, encrypted: text.contains("Proc-Type: 4,ENCRYPTED"))
      }
    }
    if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") { return .pem(label: "", encrypted: true) }
    if text.hasPrefix("PuTTY-User-Key-File-") { return .puttyKey }
    for begin in ["---- BEGIN SSH2 PUBLIC KEY ----", "-----BEGIN PUBLIC KEY-----", "-----BEGIN RSA PUBLIC KEY-----"]
    where text.contains(begin) {
      return .publicKey
    }
    let firstLine = text.split(whereSeparator: \.isNewline).first { line in
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      return !trimmed.isEmpty && !trimmed.hasPrefix("#")
    }
    if let firstLine, isPublicKeyLine(firstLine) { return .publicKey }
    return .other
  }

  /// An OpenSSH private key's type and whether its cipher is other than `none`.
  private static func openSSHKind(_ text: String) -> KeyFileKind {
    let begin = "-----BEGIN OPENSSH PRIVATE KEY-----"
    let end = "-----END OPENSSH PRIVATE KEY-----"
    guard let start = text.range(of: begin) else { return .damagedOpenSSH }
    let stop = text.range(of: end, range: start.upperBound..<text.endIndex)?.lowerBound ?? text.endIndex
    let body = text[start.upperBound..<stop].filter { !$0.isWhitespace }
    // A cut file may lose the end of its base64: decode what is whole (the header is at the start).
    let whole = body.prefix(body.count - body.count % 4)
    guard let data = Data(base64Encoded: String(whole)) else { return .damagedOpenSSH }
    var reader = WireReader(bytes: [UInt8](data))
    let magic = Array("openssh-key-v1".utf8) + [0]
    guard reader.take(magic.count) == magic, let cipher = reader.string() else { return .damagedOpenSSH }
    let encrypted = cipher != Array("none".utf8)
    var type: String?
    // KDF name and options, the number of keys, the length of the first public key, then its type
    // (read without needing the whole key: a cut file still tells its type).
    if reader.string() != nil, reader.string() != nil, reader.uint32() != nil, reader.uint32() != nil,
      let name = reader.string(), !name.isEmpty, name.count < 64, name.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
    {
      type = String(decoding: name, as: UTF8.self)
    }
    return .openSSH(type: type, encrypted: encrypted)
  }

  /// `[options] TYPE BASE64 [comment]` with an SSH key type (`ssh-…`, `ecdsa-sha2-…`, `sk-…`).
  private static func isPublicKeyLine(_ line: Substring) -> Bool {
    let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
    for index in words.indices.prefix(2) where index + 1 < words.count {
      let type = words[index]
      let isType = ["ssh-", "ecdsa-sha2-", "sk-"].contains { type.hasPrefix($0) }
      if isType && words[index + 1].hasPrefix("AAAA") { return true }
    }
    return false
  }

  /// The bytes of the file (at most ``sizeLimit``), or why they cannot be read: missing,
  /// unreadable, a directory, not a regular file, too large, a system error. Blocking I/O (call it
  /// off the cooperative pool); a FIFO is refused without waiting for a writer.
  public static func read(_ path: String) -> Result<[UInt8], KeyFileProblem> {
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    guard fd >= 0 else { return .failure(problem(errno: errno)) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { return .failure(problem(errno: errno)) }
    switch info.st_mode & S_IFMT {
    case S_IFDIR: return .failure(.isDirectory)
    case S_IFREG: break
    default: return .failure(.notRegularFile)
    }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while bytes.count <= sizeLimit {
      let got = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
      if got < 0 {
        if errno == EINTR { continue }
        return .failure(problem(errno: errno))
      }
      if got == 0 { return .success(bytes) }
      bytes += chunk[..<got]
    }
    return .failure(.notPrivateKey(detail: "larger than 1 MiB"))
  }

  /// The problem `errno` means when opening or reading a key file.
  public static func problem(errno code: Int32) -> KeyFileProblem {
    switch code {
    case ENOENT, ENOTDIR: return .noSuchFile
    case EACCES, EPERM: return .permissionDenied
    case EISDIR: return .isDirectory
    default: return .systemError(code)
    }
  }

  /// What is wrong with a file of this kind as a key to log in with, or nil when it can be used.
  /// - Parameters:
  ///   - path: the file's name (a public key named `….pub` gets a hint).
  ///   - passphraseAvailable: whether a passphrase will be given for an encrypted key.
  ///   - agentMayHoldIt: whether the ssh-agent is tried first (and may hold an encrypted key).
  public static func problem(
    of kind: KeyFileKind, path: String, passphraseAvailable: Bool, agentMayHoldIt: Bool = false
  ) -> KeyFileProblem? {
    switch kind {
    case .openSSH, .pem:
      return kind.isEncrypted && !passphraseAvailable && !agentMayHoldIt ? .encrypted : nil
    case .publicKey: return .publicKey(hasPubSuffix: path.hasSuffix(".pub"))
    case .puttyKey: return .notPrivateKey(detail: "a PuTTY key: convert it with puttygen -O private-openssh")
    case .damagedOpenSSH: return .notPrivateKey(detail: "an OpenSSH private key that does not decode: damaged?")
    case .empty: return .notPrivateKey(detail: "the file is empty")
    case .other: return .notPrivateKey(detail: nil)
    }
  }

  /// Reads `path` and tells what is wrong with it as a key to log in with, or nil when it can be
  /// used (see ``problem(of:path:passphraseAvailable:agentMayHoldIt:)``). Reads off the
  /// cooperative pool.
  public static func check(_ path: String, passphraseAvailable: Bool, agentMayHoldIt: Bool = false) async
    -> KeyFileProblem?
  {
    let read = (try? await LocalFileIO.run { Self.read(path) }) ?? .failure(.systemError(EIO))
    switch read {
    case .failure(let problem): return problem
    case .success(let bytes):
      return problem(
        of: classify(bytes), path: path, passphraseAvailable: passphraseAvailable, agentMayHoldIt: agentMayHoldIt)
    }
  }
}
