import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// What authentication needs from a key file, read once per process.
struct LoadedKeyFile: Sendable {
  /// What the file holds, or why it could not be read.
  var kind: Result<KeyFileKind, KeyFileProblem>
  /// A path to the key's public key (an in-memory file), or nil to let libssh2 derive it.
  var publicKeyPath: String?
  /// Signs in process (unencrypted Ed25519 keys), or nil to let libssh2 read the private key.
  var signer: Ed25519Signer?

  /// A file that could not be read.
  init(problem: KeyFileProblem) {
    kind = .failure(problem)
  }

  /// A file of this kind.
  init(kind: KeyFileKind, publicKeyPath: String? = nil, signer: Ed25519Signer? = nil) {
    self.kind = .success(kind)
    self.publicKeyPath = publicKeyPath
    self.signer = signer
  }
}

/// Unencrypted OpenSSH private key files, read once per process.
///
/// Given no public key, `libssh2_userauth_publickey_fromfile_ex` derives it from the private key on
/// every connection, and libssh2 1.10 first tries OpenSSL 3's generic PEM decoder on the file
/// (which fails for the OpenSSH format after trying every decoder): about 40% of the client's CPU
/// in a fan-out. An `openssh-key-v1` file carries its public key in clear in its header, so this
/// type reads it there once, keeps it in an unlinked temporary file, and hands libssh2
/// that file's `/proc/self/fd/N` path as the public key. An Ed25519 key also gets an
/// ``Ed25519Signer``, so that libssh2 does not read and import the private key for every
/// connection either. The entry is keyed by the file's identity and modification time, so a
/// rewritten key file is read anew; concurrent first uses share one read. Every file is also
/// recognised (``KeyFile/classify(_:)``), so that authentication says what is wrong with one it
/// cannot use; encrypted keys and PEM files get no public key or signer: libssh2 reads them
/// itself. A read that failed for a system reason (`EMFILE`…) is not kept: the next use tries
/// again.
enum KeyFileCache {
  private struct Identity: Equatable, Sendable {
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
    var loading: Task<LoadedKeyFile, Never>
  }

  private static let entries = Mutex<[String: Entry]>([:])

  /// What the private key file `path` gives authentication: its kind (or why it cannot be read),
  /// and for an unencrypted OpenSSH key its public key and maybe a signer.
  static func load(privateKey path: String) async -> LoadedKeyFile {
    #if os(Linux)
      // stat, then the read of a new entry: off the cooperative pool.
      let found: Result<Identity, KeyFileProblem>
      do {
        found = try await LocalFileIO.run { Self.identity(of: path) }
      } catch {
        found = .failure(.systemError(EIO))
      }
      let identity: Identity
      switch found {
      case .success(let value): identity = value
      case .failure(let problem): return LoadedKeyFile(problem: problem)
      }
      let loading = entries.withLock { entries -> Task<LoadedKeyFile, Never> in
        if let current = entries[path], current.identity == identity { return current.loading }
        // First use (or a rewritten file): read it off the cooperative pool, once. The in-memory
        // file of a replaced entry stays open: a connection may still be about to open its path.
        let loading = Task { await read(path) }
        entries[path] = Entry(identity: identity, loading: loading)
        return loading
      }
      let loaded = await loading.value
      if case .failure(let problem) = loaded.kind, problem.isSystemError {
        // A passing condition (too many open files…): forget it, the next connection reads again.
        entries.withLock { entries in
          if let current = entries[path], current.identity == identity { entries[path] = nil }
        }
      }
      return loaded
    #else
      return LoadedKeyFile(problem: .notPrivateKey(detail: "key files are read on Linux only"))
    #endif
  }

  #if os(Linux)
    private static func read(_ path: String) async -> LoadedKeyFile {
      // Reading the file and writing the in-memory one are disk I/O: off the cooperative pool.
      let kind: KeyFileKind
      let key: OpenSSHKey?
      let fd: Int32
      do {
        (kind, key, fd) = try await LocalFileIO.run { () -> (KeyFileKind, OpenSSHKey?, Int32) in
          let bytes: [UInt8]
          switch KeyFile.read(path) {
          case .failure(let problem): throw problem
          case .success(let read): bytes = read
          }
          let kind = KeyFile.classify(bytes)
          guard case .openSSH(_, encrypted: false) = kind,
            let key = OpenSSHKey.parse(text: String(decoding: bytes, as: UTF8.self))
          else { return (kind, nil, -1) }
          return (kind, key, memoryFile(containing: key.publicKeyLine))
        }
      } catch let problem as KeyFileProblem {
        return LoadedKeyFile(problem: problem)
      } catch {
        return LoadedKeyFile(problem: .systemError(EIO))
      }
      guard let key else { return LoadedKeyFile(kind: kind) }
      let signer = key.ed25519Seed.flatMap { Ed25519Signer(seed: $0, publicKeyBlob: key.publicKeyBlob) }
      return LoadedKeyFile(kind: kind, publicKeyPath: fd >= 0 ? "/proc/self/fd/\(fd)" : nil, signer: signer)
    }
  #endif

  /// The file's identity, or why it cannot be read (blocking: a `stat`).
  private static func identity(of path: String) -> Result<Identity, KeyFileProblem> {
    var info = stat()
    guard stat(path, &info) == 0 else { return .failure(KeyFile.problem(errno: errno)) }
    return .success(
      Identity(
        device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size), modified: info.st_mtim))
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
}
