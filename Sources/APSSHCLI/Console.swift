import SshJobs

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where a command writes and how it behaves towards its process: output sink, terminal, signals.
///
/// The executables use `CLIEnvironment.standard`; tests run commands in-process with a `BufferSink`.
public struct CLIEnvironment: Sendable {
  /// Where every line goes: remote output through the formatters, and the tool's own messages.
  public var sink: any OutputSink
  /// Whether stderr is a terminal (enables the live progress line).
  public var stderrIsTerminal: Bool
  /// Whether to handle SIGINT, SIGTERM and SIGHUP (stop the run, exit with 128 + the signal) and
  /// a closed stdout (stop the run, exit 141).
  public var handlesSignals: Bool
  /// The width of the terminal now, in columns (the progress line is cut to it), or nil when
  /// unknown; asked at each drawing, so a resized window is followed.
  public var terminalColumns: @Sendable () -> Int?

  /// Creates an environment.
  /// - Parameter terminalColumns: the terminal's width; by default, that of stderr when it is a
  ///   terminal (`TIOCGWINSZ`), else nil.
  public init(
    sink: any OutputSink, stderrIsTerminal: Bool = false, handlesSignals: Bool = false,
    terminalColumns: (@Sendable () -> Int?)? = nil
  ) {
    self.sink = sink
    self.stderrIsTerminal = stderrIsTerminal
    self.handlesSignals = handlesSignals
    self.terminalColumns = terminalColumns ?? { TerminalSize.columns(of: 2) }
  }

  /// The process's stdout and stderr, progress when stderr is a tty, signals handled; closed
  /// standard descriptors are replaced by `/dev/null` first (see `StandardDescriptors`).
  public static var standard: CLIEnvironment {
    StandardDescriptors.prepare()
    return CLIEnvironment(sink: StandardOutputSink.shared, stderrIsTerminal: isatty(2) == 1, handlesSignals: true)
  }
}

/// The size of a terminal.
enum TerminalSize {
  /// The columns of the terminal on `fd` (`TIOCGWINSZ`), or nil when it is not a terminal or does
  /// not say.
  static func columns(of fd: Int32) -> Int? {
    var size = winsize()
    guard isatty(fd) == 1, ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
    return Int(size.ws_col)
  }
}

/// Writes the tool's own lines (not remote output) to a sink.
struct Console: Sendable {
  let sink: any OutputSink

  /// Writes `text` plus `terminator` on stdout.
  func out(_ text: String, terminator: String = "\n") { write(text + terminator, to: .stdout) }

  /// Writes `text` plus `terminator` on stderr.
  func err(_ text: String, terminator: String = "\n") { write(text + terminator, to: .stderr) }

  /// Writes `text` as is.
  func write(_ text: String, to stream: OutputChunk.Stream) {
    Array(text.utf8).withUnsafeBytes { sink.write($0, to: stream) }
  }
}

/// The arguments of the process, as given: `CommandLine.arguments` replaces bytes that are not
/// UTF-8 by U+FFFD, so a remote command would not get them; these keep them (see
/// `String(argumentBytes:)`), and the exec request sends them back as they were.
public enum ProcessArguments {
  /// Every argument but the program name.
  public static var current: [String] {
    (1..<Int(CommandLine.argc)).map { index in
      guard let argument = CommandLine.unsafeArgv[index] else { return "" }
      return String(argumentBytes: Array(UnsafeRawBufferPointer(start: argument, count: strlen(argument))))
    }
  }
}
