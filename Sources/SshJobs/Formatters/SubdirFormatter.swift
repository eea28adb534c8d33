#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import SshClient
import Synchronization

/// Writes each host's stdout to `DIR/<host>` and its stderr to `DIR/<host>.err` (files created, or
/// truncated, the first time this formatter sees the host; the directory is created as needed).
/// Events go to the sink's stderr, as with `TemplateFormatter`; when `verbose`, a host's file also
/// starts with `Connected (direct|tunnelled) to user@host`.
public final class SubdirFormatter: TemplateFormatter, @unchecked Sendable {
  /// The directory holding one file per host.
  public let directory: String

  private struct Files {
    var directoryReady = false
    var descriptors: [String: Int32] = [:]
    var reported: Set<String> = []
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
      let line = verbose ? "Connected (\(direct ? "direct" : "tunnelled")) to \(origin.username)@\(origin.hostname)\n" : ""
      write(Array(line.utf8), to: path)
    }
    super.event(event, from: origin)
  }

  private func write(_ bytes: [UInt8], to path: String) {
    files.withLock { files in
      if !files.directoryReady {
        makeDirectories(directory)
        files.directoryReady = true
      }
      var fd = files.descriptors[path] ?? -1
      if fd < 0 {
        let truncate = !files.reported.contains(path)
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0o644)
        if fd < 0 {
          let message = "File permission problem: cannot open \(path): \(String(cString: strerror(errno)))\n"
          Array(message.utf8).withUnsafeBytes { sink.write($0, to: .stderr) }
          return
        }
        files.reported.insert(path)
        files.descriptors[path] = fd
      }
      bytes.withUnsafeBytes { writeFully(fd, $0) }
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
