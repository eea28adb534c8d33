import CLibSSH2
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// What SFTP says of a remote path.
public struct RemoteFileInfo: Sendable, Equatable {
  /// Size in bytes.
  public var size: UInt64
  /// Permission bits (`0o755`…), without the file type.
  public var permissions: UInt32
  /// True for a directory.
  public var isDirectory: Bool
  /// Last modification, in seconds since 1970.
  public var modificationTime: UInt64

  init(_ attributes: LIBSSH2_SFTP_ATTRIBUTES) {
    size = attributes.filesize
    permissions = UInt32(attributes.permissions & 0o7777)
    isDirectory = attributes.permissions & UInt(LIBSSH2_SFTP_S_IFMT) == UInt(LIBSSH2_SFTP_S_IFDIR)
    modificationTime = UInt64(attributes.mtime)
  }
}

extension SshConnection {
  /// The chunk size of file transfers: libssh2 pipelines SFTP requests within one call, so large
  /// chunks keep the link busy while memory stays bounded.
  static let transferChunk = 1 << 20

  // MARK: - The SFTP subsystem

  /// Runs `body` with the connection's SFTP session (opened once per connection, lazily).
  /// libssh2 keeps per-SFTP-session state, so SFTP operations of one connection run one at a time.
  func withSftp<T>(_ body: nonisolated(nonsending) (OpaquePointer) async throws -> T) async throws -> T {
    try await connect()
    return try await sftpGate.withPermit {
      if sftp == nil || session == nil {
        try await sessionSlots.acquire()
        do {
          sftp = try await openSftp()
        } catch {
          sessionSlots.release()
          throw error
        }
      }
      guard let sftp else { throw SshError(.disconnected, host: label, "the connection is closed") }
      return try await body(sftp)
    }
  }

  private func openSftp() async throws -> OpaquePointer {
    try await openGate.withPermit {
      try await drive { () throws -> OpaquePointer? in
        guard let session = self.session else { return nil }
        if let sftp = libssh2_sftp_init(session) { return sftp }
        let rc = self.lastErrno()
        if rc == LibSSH2.eagain { return nil }
        throw SshError(
          .channelRefused, host: self.label,
          "cannot start SFTP: \(self.lastErrorMessage(rc)); does the server have an sftp Subsystem?")
      }
    }
  }

  /// The error of a failed SFTP call on `path`.
  func sftpError(_ sftp: OpaquePointer, _ rc: Int32, _ what: String, _ path: String) -> SshError {
    guard rc == LIBSSH2_ERROR_SFTP_PROTOCOL else { return error(rc, "\(what) \(path)") }
    let status = libssh2_sftp_last_error(sftp)
    let reason: String
    switch status {
    case UInt(LIBSSH2_FX_NO_SUCH_FILE), UInt(LIBSSH2_FX_NO_SUCH_PATH): reason = "no such file or directory"
    case UInt(LIBSSH2_FX_PERMISSION_DENIED): reason = "permission denied"
    case UInt(LIBSSH2_FX_FAILURE): reason = "failure (it may exist already, or a parent is missing)"
    case UInt(LIBSSH2_FX_FILE_ALREADY_EXISTS): reason = "already exists"
    case UInt(LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM), UInt(LIBSSH2_FX_QUOTA_EXCEEDED): reason = "no space left"
    case UInt(LIBSSH2_FX_NOT_A_DIRECTORY): reason = "not a directory"
    default: reason = "SFTP status \(status)"
    }
    return SshError(.sftp(status), host: label, "cannot \(what) \(path): \(reason)", libssh2Code: rc)
  }

  /// Whether an SFTP status says the path does not exist.
  static func isNoSuchFile(_ status: UInt) -> Bool {
    status == UInt(LIBSSH2_FX_NO_SUCH_FILE) || status == UInt(LIBSSH2_FX_NO_SUCH_PATH)
  }

  /// SFTP paths are relative to the login directory: `~/x` is written `x`.
  static func sftpPath(_ path: String) -> String {
    if path == "~" { return "." }
    if path.hasPrefix("~/") { return String(path.dropFirst(2)) }
    return path
  }

  // MARK: - Primitive operations (inside withSftp)

  func stat(_ sftp: OpaquePointer, _ path: String) async throws -> RemoteFileInfo? {
    var attributes = LIBSSH2_SFTP_ATTRIBUTES()
    let length = UInt32(path.utf8.count)
    let rc: Int32 = try await drive { () -> Int32? in
      let rc = libssh2_sftp_stat_ex(sftp, path, length, LIBSSH2_SFTP_STAT, &attributes)
      return rc == LibSSH2.eagain ? nil : rc
    }
    if rc != 0 {
      if rc == LIBSSH2_ERROR_SFTP_PROTOCOL, Self.isNoSuchFile(libssh2_sftp_last_error(sftp)) { return nil }
      throw sftpError(sftp, rc, "stat", path)
    }
    return RemoteFileInfo(attributes)
  }

  func setAttributes(_ sftp: OpaquePointer, _ path: String, mode: UInt32?, times: (UInt64, UInt64)?) async throws {
    var attributes = LIBSSH2_SFTP_ATTRIBUTES()
    if let mode {
      attributes.flags |= UInt(LIBSSH2_SFTP_ATTR_PERMISSIONS)
      attributes.permissions = UInt(mode)
    }
    if let (accessed, modified) = times {
      attributes.flags |= UInt(LIBSSH2_SFTP_ATTR_ACMODTIME)
      attributes.atime = UInt(accessed)
      attributes.mtime = UInt(modified)
    }
    let length = UInt32(path.utf8.count)
    let rc: Int32 = try await drive { () -> Int32? in
      let rc = libssh2_sftp_stat_ex(sftp, path, length, LIBSSH2_SFTP_SETSTAT, &attributes)
      return rc == LibSSH2.eagain ? nil : rc
    }
    if rc != 0 { throw sftpError(sftp, rc, "set attributes of", path) }
  }

  /// `mkdir -p`, race-free: a directory created meanwhile by someone else is fine.
  func makeDirectories(_ sftp: OpaquePointer, _ path: String, mode: Int) async throws {
    let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    if trimmed.isEmpty || trimmed == "." || trimmed == "/" { return }
    let length = UInt32(trimmed.utf8.count)
    let rc: Int32 = try await drive { () -> Int32? in
      let rc = libssh2_sftp_mkdir_ex(sftp, trimmed, length, mode)
      return rc == LibSSH2.eagain ? nil : rc
    }
    if rc == 0 { return }
    if let info = try await stat(sftp, trimmed) {
      if info.isDirectory { return }
      throw SshError(.sftp(4), host: label, "cannot create directory \(trimmed): a file of that name exists")
    }
    let parent = (trimmed as NSString).deletingLastPathComponent
    guard !parent.isEmpty, parent != trimmed else { throw sftpError(sftp, rc, "create directory", trimmed) }
    try await makeDirectories(sftp, parent, mode: mode)
    let again: Int32 = try await drive { () -> Int32? in
      let rc = libssh2_sftp_mkdir_ex(sftp, trimmed, length, mode)
      return rc == LibSSH2.eagain ? nil : rc
    }
    if again != 0, try await stat(sftp, trimmed)?.isDirectory != true {
      throw sftpError(sftp, again, "create directory", trimmed)
    }
  }

  func open(_ sftp: OpaquePointer, _ path: String, flags: Int32, mode: Int, directory: Bool = false) async throws
    -> OpaquePointer
  {
    let length = UInt32(path.utf8.count)
    let type = directory ? LIBSSH2_SFTP_OPENDIR : LIBSSH2_SFTP_OPENFILE
    return try await drive { () throws -> OpaquePointer? in
      if let handle = libssh2_sftp_open_ex(sftp, path, length, UInt(flags), mode, type) { return handle }
      let rc = self.lastErrno()
      if rc == LibSSH2.eagain { return nil }
      throw self.sftpError(sftp, rc, directory ? "open directory" : "open", path)
    }
  }

  func closeHandle(_ handle: OpaquePointer) async {
    _ = try? await drive { () -> Void? in
      libssh2_sftp_close_handle(handle) == LibSSH2.eagain ? nil : ()
    }
  }

  /// Opens a remote file (or directory), runs `body` with its handle, and closes it however
  /// `body` ends.
  func withRemoteFile<T>(
    _ sftp: OpaquePointer, _ path: String, flags: Int32, mode: Int, directory: Bool = false,
    _ body: nonisolated(nonsending) (OpaquePointer) async throws -> T
  ) async throws -> T {
    let handle = try await open(sftp, path, flags: flags, mode: mode, directory: directory)
    do {
      let result = try await body(handle)
      await closeHandle(handle)
      return result
    } catch {
      await closeHandle(handle)
      throw error
    }
  }

  /// Writes the first `count` bytes of `buffer` to a remote file handle.
  private func write(
    _ sftp: OpaquePointer, _ handle: OpaquePointer, _ buffer: ReadBuffer, count: Int, path: String
  ) async throws {
    var sent = 0
    while sent < count {
      sent += try await drive { () throws -> Int? in
        let rc = libssh2_sftp_write(handle, buffer.pointer + sent, count - sent)
        if rc == Int(LibSSH2.eagain) { return nil }
        if rc < 0 { throw self.sftpError(sftp, Int32(rc), "write", path) }
        return rc
      }
    }
  }

  /// Streams the local file `fd` to a remote file, in bounded chunks.
  private func upload(_ sftp: OpaquePointer, from fd: Int32, localPath: String, to remotePath: String, mode: Int)
    async throws -> UInt64
  {
    let flags = LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC
    return try await withRemoteFile(sftp, remotePath, flags: flags, mode: mode) { handle in
      let buffer = ReadBuffer(capacity: Self.transferChunk)
      var total: UInt64 = 0
      while true {
        let count = try await LocalFileIO.read(fd, into: buffer, path: localPath)
        if count == 0 { return total }
        try await write(sftp, handle, buffer, count: count, path: remotePath)
        total += UInt64(count)
      }
    }
  }

  /// Streams a remote file to the local file `fd`, in bounded chunks.
  private func download(_ sftp: OpaquePointer, from remotePath: String, to fd: Int32, localPath: String) async throws
    -> UInt64
  {
    try await withRemoteFile(sftp, remotePath, flags: LIBSSH2_FXF_READ, mode: 0) { handle in
      let buffer = ReadBuffer(capacity: Self.transferChunk)
      var total: UInt64 = 0
      while true {
        let count: Int = try await drive { () throws -> Int? in
          let rc = libssh2_sftp_read(handle, buffer.pointer, buffer.capacity)
          if rc == Int(LibSSH2.eagain) { return nil }
          if rc < 0 { throw self.sftpError(sftp, Int32(rc), "read", remotePath) }
          return rc
        }
        if count == 0 { return total }
        try await LocalFileIO.write(fd, from: buffer, count: count, path: localPath)
        total += UInt64(count)
      }
    }
  }

  private func listDirectory(_ sftp: OpaquePointer, _ path: String) async throws -> [(String, RemoteFileInfo)] {
    try await withRemoteFile(sftp, path, flags: 0, mode: 0, directory: true) { handle in
      let name = ReadBuffer(capacity: 1024)
      var entries: [(String, RemoteFileInfo)] = []
      while true {
        var attributes = LIBSSH2_SFTP_ATTRIBUTES()
        let count: Int32 = try await drive { () throws -> Int32? in
          let rc = libssh2_sftp_readdir_ex(handle, name.pointer, name.capacity, nil, 0, &attributes)
          if rc == LibSSH2.eagain { return nil }
          if rc < 0 { throw self.sftpError(sftp, rc, "list", path) }
          return rc
        }
        if count == 0 { return entries }
        let entry = String(decoding: name.bytes(Int(count)), as: UTF8.self)
        if entry == "." || entry == ".." { continue }
        entries.append((entry, RemoteFileInfo(attributes)))
      }
    }
  }

  // MARK: - Public API

  /// What SFTP says of `path` (`~/` allowed), or `nil` when it does not exist.
  public func stat(_ path: String) async throws -> RemoteFileInfo? {
    try await withSftp { try await stat($0, Self.sftpPath(path)) }
  }

  /// Creates `path` and its missing parents (`mkdir -p`), with `mode`.
  public func makeDirectory(_ path: String, mode: Int = 0o755) async throws {
    try await withSftp { try await makeDirectories($0, Self.sftpPath(path), mode: mode) }
  }

  /// Writes `contents` to the remote file `path` with `mode` (replacing it).
  public func writeFile(_ contents: String, to path: String, mode: Int = 0o644) async throws {
    let remote = Self.sftpPath(path)
    let bytes = Array(contents.utf8)
    let buffer = ReadBuffer(capacity: max(1, bytes.count))
    bytes.withUnsafeBytes { raw in
      if let base = raw.baseAddress { memcpy(buffer.pointer, base, bytes.count) }
    }
    try await withSftp { sftp in
      let flags = LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC
      try await withRemoteFile(sftp, remote, flags: flags, mode: mode) { handle in
        try await write(sftp, handle, buffer, count: bytes.count, path: remote)
      }
      // The umask of the server may have narrowed the mode given at creation.
      try await setAttributes(sftp, remote, mode: UInt32(mode), times: nil)
    }
  }

  /// Copies local files or directories to the remote `remotePath`, like `scp`: into it when it is
  /// an existing directory, else to that name. Directories need `recursive`. With `preserve`,
  /// modes and modification times are kept (the mode is always kept for new files).
  /// - Returns: the number of bytes sent.
  @discardableResult
  public func put(_ localPaths: [String], to remotePath: String, recursive: Bool = false, preserve: Bool = false)
    async throws -> UInt64
  {
    let remote = Self.sftpPath(remotePath)
    return try await withSftp { sftp in
      let intoDirectory = try await stat(sftp, remote)?.isDirectory ?? (localPaths.count > 1)
      if localPaths.count > 1 { try await makeDirectories(sftp, remote, mode: 0o755) }
      var total: UInt64 = 0
      for local in localPaths {
        let name = (local as NSString).lastPathComponent
        let target = intoDirectory ? (remote as NSString).appendingPathComponent(name) : remote
        total += try await putItem(sftp, local: local, remote: target, recursive: recursive, preserve: preserve)
      }
      return total
    }
  }

  private func putItem(_ sftp: OpaquePointer, local: String, remote: String, recursive: Bool, preserve: Bool)
    async throws -> UInt64
  {
    guard let info = localFileStatus(local) else {
      throw SshError(.localFile, host: label, "cannot read \(local): \(Socket.errnoString())")
    }
    let mode = Int(info.st_mode & 0o7777)
    if info.st_mode & S_IFMT == S_IFDIR {
      guard recursive else {
        throw SshError(.localFile, host: label, "\(local) is a directory: copy it recursively (-r)")
      }
      try await makeDirectories(sftp, remote, mode: mode)
      var total: UInt64 = 0
      let entries = (try? FileManager.default.contentsOfDirectory(atPath: local).sorted()) ?? []
      for entry in entries {
        total += try await putItem(
          sftp, local: (local as NSString).appendingPathComponent(entry),
          remote: (remote as NSString).appendingPathComponent(entry), recursive: true, preserve: preserve)
      }
      if preserve {
        try await setAttributes(
          sftp, remote, mode: UInt32(mode), times: (UInt64(info.st_atim.tv_sec), UInt64(info.st_mtim.tv_sec)))
      }
      return total
    }
    let fd = Glibc.open(local, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SshError(.localFile, host: label, "cannot open \(local): \(Socket.errnoString())") }
    defer { Glibc.close(fd) }
    let sent: UInt64
    do {
      sent = try await upload(sftp, from: fd, localPath: local, to: remote, mode: mode)
    } catch let error as LocalFileError {
      throw SshError(.localFile, host: label, error.description)
    }
    if preserve {
      try await setAttributes(
        sftp, remote, mode: UInt32(mode), times: (UInt64(info.st_atim.tv_sec), UInt64(info.st_mtim.tv_sec)))
    }
    return sent
  }

  /// Copies remote files or directories to `localPath`, like `scp`: into it when it is an existing
  /// directory, else to that name. Directories need `recursive`; with `preserve`, modes and
  /// modification times are kept (the mode is always kept).
  /// - Returns: the number of bytes received.
  @discardableResult
  public func get(_ remotePaths: [String], to localPath: String, recursive: Bool = false, preserve: Bool = false)
    async throws -> UInt64
  {
    var isDirectory: ObjCBool = false
    let exists = FileManager.default.fileExists(atPath: localPath, isDirectory: &isDirectory)
    let intoDirectory = (exists && isDirectory.boolValue) || remotePaths.count > 1
    if remotePaths.count > 1 && !exists {
      try FileManager.default.createDirectory(atPath: localPath, withIntermediateDirectories: true)
    }
    return try await withSftp { sftp in
      var total: UInt64 = 0
      for remotePath in remotePaths {
        let remote = Self.sftpPath(remotePath)
        guard let info = try await stat(sftp, remote) else {
          throw SshError(.sftp(2), host: label, "cannot get \(remotePath): no such file or directory")
        }
        let name = (remote as NSString).lastPathComponent
        let target = intoDirectory ? (localPath as NSString).appendingPathComponent(name) : localPath
        total += try await getItem(
          sftp, remote: remote, info: info, local: target, recursive: recursive, preserve: preserve)
      }
      return total
    }
  }

  private func getItem(
    _ sftp: OpaquePointer, remote: String, info: RemoteFileInfo, local: String, recursive: Bool, preserve: Bool
  ) async throws -> UInt64 {
    var total: UInt64 = 0
    if info.isDirectory {
      guard recursive else {
        throw SshError(.localFile, host: label, "\(remote) is a directory: copy it recursively (-r)")
      }
      if mkdir(local, mode_t(info.permissions | 0o700)) != 0 && errno != EEXIST {
        throw SshError(.localFile, host: label, "cannot create \(local): \(Socket.errnoString())")
      }
      for (entry, entryInfo) in try await listDirectory(sftp, remote).sorted(by: { $0.0 < $1.0 }) {
        total += try await getItem(
          sftp, remote: (remote as NSString).appendingPathComponent(entry), info: entryInfo,
          local: (local as NSString).appendingPathComponent(entry), recursive: true, preserve: preserve)
      }
    } else {
      let fd = Glibc.open(local, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode_t(info.permissions))
      guard fd >= 0 else { throw SshError(.localFile, host: label, "cannot create \(local): \(Socket.errnoString())") }
      defer { Glibc.close(fd) }
      do {
        total = try await download(sftp, from: remote, to: fd, localPath: local)
      } catch let error as LocalFileError {
        throw SshError(.localFile, host: label, error.description)
      }
    }
    _ = chmod(local, mode_t(info.permissions))
    if preserve {
      var times = [
        timespec(tv_sec: Int(info.modificationTime), tv_nsec: 0),
        timespec(tv_sec: Int(info.modificationTime), tv_nsec: 0),
      ]
      _ = utimensat(AT_FDCWD, local, &times, 0)
    }
    return total
  }
}

/// `stat(2)` of a local path, or nil (errno set).
private func localFileStatus(_ path: String) -> stat? {
  var info = stat()
  return stat(path, &info) == 0 ? info : nil
}
