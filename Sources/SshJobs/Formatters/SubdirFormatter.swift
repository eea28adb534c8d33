import SshClient
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes each host's stdout to `DIR/<host>` and its stderr to `DIR/<host>.err` (files created, or
/// truncated, the first time this formatter sees the host; the directory is created as needed).
/// A file that cannot be opened or written is not tried again: its failure is kept in
/// ``failures``, for the run to report once.
/// Events go to the sink's stderr, as with `TemplateFormatter`; when `verbose`, a host's file also
/// starts with `Connected (direct|tunnelled) to user@host`.
public final class SubdirFormatter: TemplateFormatter, @unchecked Sendable {
  /// The directory holding one file per host.
  public let directory: String

  private struct Files {
    var directoryReady = false
    var descriptors: [String: Int32] = [:]
    var reported: Set<String> = []
    /// The first failure of each file that could not be opened or written (not tried again).
    var failures: [String: OutputWriteFailure] = [:]
    var failureOrder: [String] = []
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
    }
  }

  /// The file of `hostname`'s stdout.
  public func outputPath(of hostname: String) -> String { directory + "/" + hostname }
  /// The file of `hostname`'s stderr.
  public func errorPath(of hostname: String) -> String { directory + "/" + hostname + ".err" }

  /// The files that could not be opened or written, in the order they failed.
  public var failures: [OutputWriteFailure] {
    files.withLock { files in files.failureOrder.compactMap { files.failures[$0] } }
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
    let path = stream == .stdout ? outputPath(of: origin.hostname) : errorPath(of: origin.hostname)
    let output = render(bytes, from: origin)
    write(output, to: path)
  }

  /// Opens the host's file on connection (with a first line when verbose); other events as usual.
  public override func event(_ event: FormatterEvent, from origin: OutputOrigin) {
    if case .connecting(let direct) = event {
      let path = outputPath(of: origin.hostname)
      let line =
        verbose ? "Connected (\(direct ? "direct" : "tunnelled")) to \(origin.username)@\(origin.hostname)\n" : ""
      write(Array(line.utf8), to: path)
    }
    super.event(event, from: origin)
  }

  private func write(_ bytes: [UInt8], to path: String) {
    files.withLock { files in
      guard files.failures[path] == nil else { return }
      func fail(_ error: Int32) {
        files.failures[path] = OutputWriteFailure(path: path, errno: error)
        files.failureOrder.append(path)
      }
      if !files.directoryReady {
        makeDirectories(directory)
        files.directoryReady = true
      }
      var fd = files.descriptors[path] ?? -1
      if fd < 0 {
        let truncate = !files.reported.contains(path)
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0o644)
        if fd < 0 { return fail(errno) }
        files.reported.insert(path)
        files.descriptors[path] = fd
      }
      let failure = bytes.withUnsafeBytes { writeFully(fd, $0) }
      if failure != 0 { fail(failure) }
    }
  }
}

/// `mkdir -p`, errors ignored (opening a file inside reports them).
func makeDirectories(_ path: String) {
  var current = path.hasPrefix("/") ? "" : "."
  for component in path.split(separator: "/") {
    current += "/" + component
    _ = mkdir(current, 0o755)
  }
}
