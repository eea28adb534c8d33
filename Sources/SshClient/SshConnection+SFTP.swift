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
  /// True for a symbolic link (only in directory listings, which do not follow links; `stat`
  /// follows them).
  public var isSymbolicLink: Bool
  /// True for a regular file (also when the server gives no file type).
  public var isRegularFile: Bool
  /// Last modification, in seconds since 1970.
  public var modificationTime: UInt64

  init(_ attributes: LIBSSH2_SFTP_ATTRIBUTES) {
    size = attributes.filesize
    permissions = UInt32(attributes.permissions & 0o7777)
    let type = attributes.permissions & UInt(LIBSSH2_SFTP_S_IFMT)
    isDirectory = type == UInt(LIBSSH2_SFTP_S_IFDIR)
    isSymbolicLink = type == UInt(LIBSSH2_SFTP_S_IFLNK)
    isRegularFile = type == UInt(LIBSSH2_SFTP_S_IFREG) || type == 0
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
  ///
  /// Inside a directory tree, symbolic links are followed (as `scp -r` does); what cannot be
  /// copied there is skipped with a message to `warnings` naming it, and the rest is copied: a
  /// directory that is also one of its own ancestors (a symbolic link loop, found by device and
  /// inode), a symbolic link to nothing, a special file (FIFO, socket, device). The same things
  /// given as `localPaths` throw.
  /// - Returns: the number of bytes sent.
  @discardableResult
  public func put(
    _ localPaths: [String], to remotePath: String, recursive: Bool = false, preserve: Bool = false,
    warnings: @escaping @Sendable (String) -> Void = { _ in }
  ) async throws -> UInt64 {
    let remote = Self.sftpPath(remotePath)
    return try await withSftp { sftp in
      let intoDirectory = try await stat(sftp, remote)?.isDirectory ?? (localPaths.count > 1)
      if localPaths.count > 1 { try await makeDirectories(sftp, remote, mode: 0o755) }
      var total: UInt64 = 0
      for local in localPaths {
        let name = (local as NSString).lastPathComponent
        let target = intoDirectory ? (remote as NSString).appendingPathComponent(name) : remote
        total += try await putItem(
          sftp, local: local, remote: target, recursive: recursive, preserve: preserve, ancestors: [],
          warn: warnings)
      }
      return total
    }
  }

  /// A local directory being copied, to recognise it when a symbolic link leads back to it.
  private struct LocalDirectory {
    var device: UInt64
    var inode: UInt64
    var path: String
  }

  private func putItem(
    _ sftp: OpaquePointer, local: String, remote: String, recursive: Bool, preserve: Bool,
    ancestors: [LocalDirectory], warn: @Sendable (String) -> Void
  ) async throws -> UInt64 {
    let nested = !ancestors.isEmpty
    guard let info = localFileStatus(local) else {
      let reason = Socket.errnoString()
      if nested {
        warn(
          isSymbolicLink(local) ? "\(local): symbolic link to nothing, not copied" : "\(local): \(reason), not copied")
        return 0
      }
      throw SshError(.localFile, host: label, "cannot read \(local): \(reason)")
    }
    let mode = Int(info.st_mode & 0o7777)
    let type = info.st_mode & S_IFMT
    if type == S_IFDIR {
      guard recursive else {
        throw SshError(.localFile, host: label, "\(local) is a directory: copy it recursively (-r)")
      }
      let device = UInt64(info.st_dev)
      let inode = UInt64(info.st_ino)
      if let loop = ancestors.first(where: { $0.device == device && $0.inode == inode }) {
        warn("\(local): directory loop (the same directory as \(loop.path)), not copied")
        return 0
      }
      let entries: [String]
      do {
        entries = try FileManager.default.contentsOfDirectory(atPath: local).sorted()
      } catch {
        throw SshError(.localFile, host: label, "cannot list \(local): \((error as NSError).localizedDescription)")
      }
      try await makeDirectories(sftp, remote, mode: mode)
      let chain = ancestors + [LocalDirectory(device: device, inode: inode, path: local)]
      var total: UInt64 = 0
      for entry in entries {
        total += try await putItem(
          sftp, local: (local as NSString).appendingPathComponent(entry),
          remote: (remote as NSString).appendingPathComponent(entry), recursive: true, preserve: preserve,
          ancestors: chain, warn: warn)
      }
      if preserve {
        try await setAttributes(
          sftp, remote, mode: UInt32(mode), times: (UInt64(info.st_atim.tv_sec), UInt64(info.st_mtim.tv_sec)))
      }
      return total
    }
    guard type == S_IFREG else {
      // Opening a FIFO would wait for a writer; a device may never end.
      if nested {
        warn("\(local): not a regular file or directory, not copied")
        return 0
      }
      throw SshError(.localFile, host: label, "cannot copy \(local): not a regular file or directory")
    }
    let fd = Glibc.open(local, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
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
  ///
  /// Inside a directory tree, symbolic links are followed (as `scp -r` does); what cannot be
  /// copied there is skipped with a message to `warnings` naming it, and the rest is copied: a
  /// symbolic link back to a directory being copied (a loop: found by comparing the server's
  /// canonical paths of the link and of the directories above it), a symbolic link to nothing, a
  /// special file. A file whose transfer fails is removed, not left truncated.
  /// - Returns: the number of bytes received.
  @discardableResult
  public func get(
    _ remotePaths: [String], to localPath: String, recursive: Bool = false, preserve: Bool = false,
    warnings: @escaping @Sendable (String) -> Void = { _ in }
  ) async throws -> UInt64 {
    var isDirectory: ObjCBool = false
    let exists = FileManager.default.fileExists(atPath: localPath, isDirectory: &isDirectory)
    let intoDirectory = (exists && isDirectory.boolValue) || remotePaths.count > 1
    if remotePaths.count > 1 && !exists {
      try FileManager.default.createDirectory(atPath: localPath, withIntermediateDirectories: true)
    }
    return try await withSftp { sftp in
      var total: UInt64 = 0
      var realPaths: [String: String] = [:]
      for remotePath in remotePaths {
        let remote = Self.sftpPath(remotePath)
        guard let info = try await stat(sftp, remote) else {
          throw SshError(.sftp(2), host: label, "cannot get \(remotePath): no such file or directory")
        }
        let name = (remote as NSString).lastPathComponent
        let target = intoDirectory ? (localPath as NSString).appendingPathComponent(name) : localPath
        total += try await getItem(
          sftp, remote: remote, info: info, local: target, recursive: recursive, preserve: preserve, ancestors: [],
          realPaths: &realPaths, warn: warnings)
      }
      return total
    }
  }

  private func getItem(
    _ sftp: OpaquePointer, remote: String, info listed: RemoteFileInfo, local: String, recursive: Bool,
    preserve: Bool, ancestors: [String], realPaths: inout [String: String], warn: @Sendable (String) -> Void
  ) async throws -> UInt64 {
    var info = listed
    if listed.isSymbolicLink {
      // Directory listings describe links themselves: follow them.
      guard let target = try await stat(sftp, remote) else {
        warn("\(remote): symbolic link to nothing, not copied")
        return 0
      }
      info = target
      if target.isDirectory && recursive {
        let real = try await realPath(sftp, remote, cache: &realPaths)
        for ancestor in ancestors {
          guard try await realPath(sftp, ancestor, cache: &realPaths) == real else { continue }
          warn("\(remote): directory loop (a symbolic link back to \(ancestor)), not copied")
          return 0
        }
      }
    }
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
          local: (local as NSString).appendingPathComponent(entry), recursive: true, preserve: preserve,
          ancestors: ancestors + [remote], realPaths: &realPaths, warn: warn)
      }
    } else if !info.isRegularFile {
      guard !ancestors.isEmpty else {
        throw SshError(.sftp(4), host: label, "cannot get \(remote): not a regular file or directory")
      }
      warn("\(remote): not a regular file or directory, not copied")
      return 0
    } else {
      let fd = Glibc.open(local, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode_t(info.permissions))
      guard fd >= 0 else { throw SshError(.localFile, host: label, "cannot create \(local): \(Socket.errnoString())") }
      defer { Glibc.close(fd) }
      do {
        total = try await download(sftp, from: remote, to: fd, localPath: local)
      } catch let error as LocalFileError {
        Glibc.unlink(local)
        throw SshError(.localFile, host: label, error.description)
      } catch {
        Glibc.unlink(local)
        throw error
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

  /// The server's canonical path of `path` (symbolic links resolved), remembered in `cache`.
  private func realPath(_ sftp: OpaquePointer, _ path: String, cache: inout [String: String]) async throws -> String {
    if let known = cache[path] { return known }
    let buffer = ReadBuffer(capacity: 4096)
    let length = UInt32(path.utf8.count)
    let rc: Int32 = try await drive { () -> Int32? in
      let rc = libssh2_sftp_symlink_ex(
        sftp, path, length, buffer.pointer, UInt32(buffer.capacity), LIBSSH2_SFTP_REALPATH)
      return rc == LibSSH2.eagain ? nil : rc
    }
    if rc < 0 { throw sftpError(sftp, rc, "resolve", path) }
    let real = String(decoding: buffer.bytes(Int(rc)), as: UTF8.self)
    cache[path] = real
    return real
  }

  /// Removes the remote `path` (`~/` allowed): a file or symbolic link, or, with `recursive`, a
  /// directory and everything in it (symbolic links are removed, never followed). A path that
  /// does not exist is not an error.
  public func remove(_ path: String, recursive: Bool = false) async throws {
    let remote = Self.sftpPath(path)
    try await withSftp { sftp in
      var attributes = LIBSSH2_SFTP_ATTRIBUTES()
      let length = UInt32(remote.utf8.count)
      let rc: Int32 = try await drive { () -> Int32? in
        let rc = libssh2_sftp_stat_ex(sftp, remote, length, LIBSSH2_SFTP_LSTAT, &attributes)
        return rc == LibSSH2.eagain ? nil : rc
      }
      if rc != 0 {
        if rc == LIBSSH2_ERROR_SFTP_PROTOCOL, Self.isNoSuchFile(libssh2_sftp_last_error(sftp)) { return }
        throw sftpError(sftp, rc, "stat", remote)
      }
      let info = RemoteFileInfo(attributes)
      guard info.isDirectory else { return try await removeFile(sftp, remote) }
      guard recursive else {
        throw SshError(.sftp(4), host: label, "cannot remove \(remote): a directory (remove it recursively)")
      }
      try await removeTree(sftp, remote)
    }
  }

  private func removeTree(_ sftp: OpaquePointer, _ path: String) async throws {
    for (entry, info) in try await listDirectory(sftp, path) {
      let child = (path as NSString).appendingPathComponent(entry)
      if info.isDirectory {
        try await removeTree(sftp, child)
      } else {
        try await removeFile(sftp, child)
      }
    }
    let length = UInt32(path.utf8.count)
    let rc: Int32 = try await drive { () -> Int32? in
      let rc = libssh2_sftp_rmdir_ex(sftp, path, length)
      return rc == LibSSH2.eagain ? nil : rc
    }
    if rc != 0 { throw sftpError(sftp, rc, "remove directory", path) }
  }

  private func removeFile(_ sftp: OpaquePointer, _ path: String) async throws {
    let length = UInt32(path.utf8.count)
    let rc: Int32 = try await drive { () -> Int32? in
      let rc = libssh2_sftp_unlink_ex(sftp, path, length)
      return rc == LibSSH2.eagain ? nil : rc
    }
    if rc != 0 { throw sftpError(sftp, rc, "remove", path) }
  }

  /// Sets the permission bits of the remote `path` (`~/` allowed), whatever the server's umask.
  public func setMode(_ path: String, _ mode: Int) async throws {
    try await withSftp { try await setAttributes($0, Self.sftpPath(path), mode: UInt32(mode), times: nil) }
  }
}

/// Whether `path` is a symbolic link (not followed).
private func isSymbolicLink(_ path: String) -> Bool {
  var info = stat()
  return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK
}

/// `stat(2)` of a local path, or nil (errno set).
private func localFileStatus(_ path: String) -> stat? {
  var info = stat()
  return stat(path, &info) == 0 ? info : nil
}
