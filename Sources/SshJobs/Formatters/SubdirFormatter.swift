import SshClient
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes each host's stdout to `DIR/<host>` and its stderr to `DIR/<host>.err` (the directory is
/// created as needed). A file that cannot be opened or written is not tried again: its failure is
/// kept in ``failures``, for the run to report once.
/// Events go to the sink's stderr, as with `TemplateFormatter`; when `verbose`, a host's file also
/// starts with `Connected (direct|tunnelled) to user@host`.
///
/// **Nothing is written outside the directory, nor through a link.** The directory is opened once
/// and every file is made in it by name (`openat`): a host's file name is its host name with `/`
/// written `%2F` (and `.`, `..`, the names of the mark directories and names ending in `.err`
/// escaped likewise, see ``fileName(of:)``). A file is created anew the first time this formatter
/// writes it (`O_CREAT | O_EXCL | O_NOFOLLOW`): a regular file of that name, from a previous run,
/// is removed first; a symbolic link or anything else in the way is never followed nor removed,
/// and is a failure of that file. ``prepare()`` does the same for every registered host at once
/// before a run, and empties the mark directories (``markDirectories``) of a previous run.
public final class SubdirFormatter: TemplateFormatter, @unchecked Sendable {
  /// The directory of the mark files of hosts that succeeded (`DIR/0ok/<host>`).
  public static let okDirectory = "0ok"
  /// The directory of the mark files of hosts that failed (`DIR/1failed/<host>`).
  public static let failedDirectory = "1failed"
  /// The mark directories, which ``prepare()`` empties: they describe one run.
  public static let markDirectories = [okDirectory, failedDirectory]

  /// The directory holding one file per host.
  public let directory: String

  private struct Files {
    /// The directory, opened once (-1 until then).
    var directoryFD: Int32 = -1
    /// The file names of the registered hosts, in order.
    var hosts: [String] = []
    var descriptors: [String: Int32] = [:]
    /// The files created by this formatter (written again in append mode).
    var created: Set<String> = []
    /// The first failure of each file that could not be opened or written (not tried again).
    var failures: [String: OutputWriteFailure] = [:]
    var failureOrder: [String] = []

    mutating func fail(_ path: String, _ error: Int32) {
      guard failures[path] == nil else { return }
      failures[path] = OutputWriteFailure(path: path, errno: error)
      failureOrder.append(path)
    }
  }
  private let files = Mutex(Files())

  /// Creates a formatter writing into `directory`.
  public init(directory: String, verbose: Bool = false, sink: any OutputSink = StandardOutputSink.shared) {
    self.directory = directory
    super.init(format: "{linenl}", verbose: verbose, sink: sink)
  }

  deinit {
    files.withLock { files in
      for fd in files.descriptors.values { close(fd) }
      if files.directoryFD >= 0 { close(files.directoryFD) }
    }
  }

  /// The name of `hostname`'s files in the directory: the host name, unless it could name
  /// something else: `/` becomes `%2F` and a NUL `%00`; a leading `.` becomes `%2E` (so `.`, `..`
  /// and hidden names never appear); the names of the mark directories get their first character
  /// escaped (`%30ok`); a name ending in `.err` (that would be another host's stderr file) gets
  /// `%2Eerr`. `../x` is written `%2E.%2Fx`.
  public static func fileName(of hostname: String) -> String {
    if hostname.isEmpty { return "%" }
    var name = ""
    for character in hostname.unicodeScalars {
      switch character {
      case "/": name += "%2F"
      case "\0": name += "%00"
      default: name.unicodeScalars.append(character)
      }
    }
    if name.hasPrefix(".") { name = "%2E" + name.dropFirst() }
    if markDirectories.contains(name), let first = name.unicodeScalars.first {
      return "%" + String(first.value, radix: 16, uppercase: true) + name.dropFirst()
    }
    if name.hasSuffix(".err") { return name.dropLast(4) + "%2Eerr" }
    return name
  }

  /// The file of `hostname`'s stdout.
  public func outputPath(of hostname: String) -> String { directory + "/" + Self.fileName(of: hostname) }
  /// The file of `hostname`'s stderr.
  public func errorPath(of hostname: String) -> String { directory + "/" + Self.fileName(of: hostname) + ".err" }

  /// The files that could not be opened or written, in the order they failed.
  public var failures: [OutputWriteFailure] {
    files.withLock { files in files.failureOrder.compactMap { files.failures[$0] } }
  }

  /// Records the widths and the host's file name (see ``prepare()``).
  public override func register(_ origin: OutputOrigin) {
    super.register(origin)
    let name = Self.fileName(of: origin.hostname)
    files.withLock { files in
      if !files.hosts.contains(name) { files.hosts.append(name) }
    }
  }

  /// Makes the directory ready for a run of the registered hosts, before anything runs: creates it
  /// (with its parents), removes the files of these hosts (`DIR/<host>`, `DIR/<host>.err`) left
  /// by a previous run, and empties the mark directories; other files stay.
  ///
  /// Everything is checked before anything is removed: a symbolic link in place of a host's file
  /// or of a mark directory, a directory in place of a host's file or inside a mark directory, is
  /// an error naming it (nothing is followed, nothing removed).
  public func prepare() throws(OutputDirectoryError) {
    try files.withLock { files throws(OutputDirectoryError) in
      let directoryFD = openDirectory(&files)
      guard directoryFD >= 0 else {
        if directoryFD == -ENOTDIR {
          throw OutputDirectoryError(path: directory, problem: "is not a directory (a file is in the way)")
        }
        throw OutputDirectoryError(path: directory, doing: "cannot be opened", errno: -directoryFD)
      }
      var removals: [(parent: Int32, name: String)] = []
      var markFDs: [(fd: Int32, name: String)] = []
      defer { for mark in markFDs { close(mark.fd) } }
      for host in files.hosts where !files.created.contains(host) {
        for name in [host, host + ".err"] {
          guard let kind = try entryKind(directoryFD, name, path: directory + "/" + name) else { continue }
          guard kind == S_IFREG else {
            throw OutputDirectoryError(path: directory + "/" + name, kind: kind, expected: "the output file of a host")
          }
          removals.append((directoryFD, name))
        }
      }
      for mark in Self.markDirectories {
        let path = directory + "/" + mark
        guard let kind = try entryKind(directoryFD, mark, path: path) else { continue }
        guard kind == S_IFDIR else {
          throw OutputDirectoryError(path: path, kind: kind, expected: "a directory of mark files")
        }
        let markFD = openat(directoryFD, mark, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard markFD >= 0 else { throw OutputDirectoryError(path: path, doing: "cannot be opened", errno: errno) }
        markFDs.append((markFD, mark))
        for name in try entries(of: markFD, path: path) {
          guard let kind = try entryKind(markFD, name, path: path + "/" + name) else { continue }
          // A link in a mark directory is removed (unlinking never follows it).
          guard kind == S_IFREG || kind == S_IFLNK else {
            throw OutputDirectoryError(path: path + "/" + name, kind: kind, expected: "a mark file")
          }
          removals.append((markFD, name))
        }
      }
      for removal in removals {
        guard unlinkat(removal.parent, removal.name, 0) != 0 else { continue }
        let error = errno
        if error == ENOENT { continue }
        let parent = markFDs.first { $0.fd == removal.parent }.map { directory + "/" + $0.name } ?? directory
        throw OutputDirectoryError(path: parent + "/" + removal.name, doing: "cannot be removed", errno: error)
      }
    }
  }

  /// Writes the mark files of a run: `DIR/0ok/<host>` for each host that succeeded and
  /// `DIR/1failed/<host>` for the others, holding `contents`. Both mark directories are made
  /// (even empty: `-t DIR/1failed` then names no host, rather than a path that does not exist);
  /// nothing is written through a link. Failures are kept in ``failures``.
  /// - Parameter marks: one per host, in order.
  public func writeMarks(_ marks: [(hostname: String, succeeded: Bool, contents: String)]) {
    files.withLock { files in
      let directoryFD = openDirectory(&files)
      guard directoryFD >= 0 else { return files.fail(directory, -directoryFD) }
      var markFDs: [String: Int32] = [:]
      defer { for fd in markFDs.values { close(fd) } }
      for folder in Self.markDirectories {
        if mkdirat(directoryFD, folder, 0o755) != 0 && errno != EEXIST {
          files.fail(directory + "/" + folder, errno)
          continue
        }
        let fd = openat(directoryFD, folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
          files.fail(directory + "/" + folder, errno)
          continue
        }
        markFDs[folder] = fd
      }
      for mark in marks {
        let folder = mark.succeeded ? Self.okDirectory : Self.failedDirectory
        let name = Self.fileName(of: mark.hostname)
        let path = directory + "/" + folder + "/" + name
        guard let markFD = markFDs[folder], files.failures[path] == nil else { continue }
        let fd = createFile(markFD, name)
        guard fd >= 0 else {
          files.fail(path, -fd)
          continue
        }
        let failure = Array(mark.contents.utf8).withUnsafeBytes { writeFully(fd, $0) }
        close(fd)
        if failure != 0 { files.fail(path, failure) }
      }
    }
  }

  /// Closes every file (they are opened again, in append mode, if more output comes).
  public func closeFiles() {
    files.withLock { files in
      for fd in files.descriptors.values { close(fd) }
      files.descriptors = [:]
    }
  }

  /// Appends the lines to the host's file (`.err` for stderr).
  public override func lines(_ bytes: ArraySlice<UInt8>, stream: OutputChunk.Stream, from origin: OutputOrigin) {
    let name = Self.fileName(of: origin.hostname) + (stream == .stdout ? "" : ".err")
    let output = render(bytes, from: origin)
    write(output, to: name)
  }

  /// Opens the host's file on connection (with a first line when verbose); other events as usual.
  public override func event(_ event: FormatterEvent, from origin: OutputOrigin) {
    if case .connecting(let direct) = event {
      let line =
        verbose ? "Connected (\(direct ? "direct" : "tunnelled")) to \(origin.username)@\(origin.hostname)\n" : ""
      write(Array(line.utf8), to: Self.fileName(of: origin.hostname))
    }
    super.event(event, from: origin)
  }

  /// Appends `bytes` to the file `name` of the directory: created anew the first time (see the
  /// type's documentation), in append mode after.
  private func write(_ bytes: [UInt8], to name: String) {
    files.withLock { files in
      let path = directory + "/" + name
      guard files.failures[path] == nil else { return }
      var fd = files.descriptors[name] ?? -1
      if fd < 0 {
        let directoryFD = openDirectory(&files)
        if directoryFD < 0 { return files.fail(path, -directoryFD) }
        if files.created.contains(name) {
          fd = openat(directoryFD, name, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC)
          if fd < 0 { return files.fail(path, errno) }
        } else {
          fd = createFile(directoryFD, name)
          if fd < 0 { return files.fail(path, -fd) }
          files.created.insert(name)
        }
        files.descriptors[name] = fd
      }
      let failure = bytes.withUnsafeBytes { writeFully(fd, $0) }
      if failure != 0 { files.fail(path, failure) }
    }
  }

  /// The directory, made (with its parents) and opened the first time; minus the `errno` when
  /// it cannot be.
  private func openDirectory(_ files: inout Files) -> Int32 {
    if files.directoryFD >= 0 { return files.directoryFD }
    makeDirectories(directory)
    let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { return -errno }
    files.directoryFD = fd
    return fd
  }

  /// The type (`S_IFREG`, `S_IFLNK`…) of `name` in the directory `parent`, or nil when there is none.
  private func entryKind(_ parent: Int32, _ name: String, path: String) throws(OutputDirectoryError) -> mode_t? {
    var info = stat()
    guard fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
      if errno == ENOENT { return nil }
      throw OutputDirectoryError(path: path, doing: "cannot be examined", errno: errno)
    }
    return info.st_mode & S_IFMT
  }

  /// The names in the directory `fd` (without `.` and `..`).
  private func entries(of fd: Int32, path: String) throws(OutputDirectoryError) -> [String] {
    let copy = dup(fd)
    guard copy >= 0, let stream = fdopendir(copy) else {
      let error = errno
      if copy >= 0 { close(copy) }
      throw OutputDirectoryError(path: path, doing: "cannot be read", errno: error)
    }
    defer { closedir(stream) }
    var names: [String] = []
    while let entry = readdir(stream) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names
  }

  /// `a symbolic link`, `a directory`…: what an entry of type `kind` is.
  static func describe(_ kind: mode_t) -> String {
    switch kind {
    case S_IFLNK: return "a symbolic link (never followed, nor replaced)"
    case S_IFDIR: return "a directory"
    case S_IFREG: return "a file"
    case S_IFIFO: return "a named pipe"
    case S_IFSOCK: return "a socket"
    default: return "a device"
    }
  }
}

/// Creates the file `name` in the directory `parent` for writing, anew: a regular file of that
/// name is removed first; a link or anything else in the way is left alone and refused. Returns the
/// descriptor, or minus the `errno` (`ELOOP` for a link, `EISDIR`, or `EEXIST` when something
/// took the name meanwhile).
private func createFile(_ parent: Int32, _ name: String) -> Int32 {
  var info = stat()
  if fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) == 0 {
    switch info.st_mode & S_IFMT {
    case S_IFREG:
      if unlinkat(parent, name, 0) != 0 && errno != ENOENT { return -errno }
    case S_IFLNK: return -ELOOP
    case S_IFDIR: return -EISDIR
    default: return -EEXIST
    }
  }
  let fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_APPEND | O_CLOEXEC, 0o644)
  return fd >= 0 ? fd : -errno
}

/// A problem with an output directory, found before a run (``SubdirFormatter/prepare()``): what
/// is wrong, and where.
public struct OutputDirectoryError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The directory, or the entry of it, that is wrong.
  public let path: String
  /// What is wrong with it: `is a symbolic link…; remove it, or choose another directory`.
  public let problem: String
  /// The system error, when there is one.
  public let errno: Int32?

  /// Creates an error.
  public init(path: String, problem: String, errno: Int32? = nil) {
    self.path = path
    self.problem = problem
    self.errno = errno
  }

  /// A system call that failed: `cannot be removed: Permission denied`.
  init(path: String, doing action: String, errno: Int32) {
    self.init(path: path, problem: action + ": " + String(cString: strerror(errno)), errno: errno)
  }

  /// Something of type `kind` where something else was `expected`.
  init(path: String, kind: mode_t, expected: String) {
    self.init(
      path: path,
      problem: "is \(SubdirFormatter.describe(kind)), not \(expected); remove it, or choose another directory")
  }

  /// `DIR/h is a symbolic link (never followed, nor replaced), not the output file of a host;
  /// remove it, or choose another directory`.
  public var description: String { "\(path) \(problem)" }
}

/// `mkdir -p`, errors ignored (opening the directory reports them).
func makeDirectories(_ path: String) {
  var current = path.hasPrefix("/") ? "" : "."
  for component in path.split(separator: "/") {
    current += "/" + component
    _ = mkdir(current, 0o755)
  }
}
