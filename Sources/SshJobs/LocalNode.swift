import SshClient
import Subprocess

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The local host: commands run through `/bin/sh -c` in the current directory, their output going
/// to the formatter exactly as a remote command's would, under the host name `LOCALNODE`.
///
/// A process killed by a signal ends with `.signal(name)` (so `allowedExits: ["TERM"]` works here too).
/// `RunScript` and `RunString` work (the script is copied to `~/.apssh-remote/`); `Push` and `Pull`
/// do not. Giving a command input makes the process ignore SIGPIPE, if it was at its default (see
/// `brokenPipesIgnored`).
public final class LocalNode: CommandNode {
  /// `LOCALNODE`.
  public let hostname: String
  /// The local user.
  public let username: String
  /// `LOCALNODE`.
  public var displayName: String { hostname }
  /// Where the output of this node's commands goes.
  public let formatter: any OutputFormatter

  /// Creates the local node.
  /// - Parameter formatter: where output goes; the process-wide `defaultFormatter` by default.
  public init(formatter: (any OutputFormatter)? = nil) {
    hostname = "LOCALNODE"
    username = SshConfiguration.localUsername
    self.formatter = formatter ?? defaultFormatter
    self.formatter.register(origin)
  }

  /// `user@LOCALNODE`.
  public var description: String { userHost }

  /// Runs `commandLine` with `/bin/sh -c`, streaming stdout and stderr as they come; past
  /// `timeout` (or when cancelled) the process is stopped and `SshError` `.commandTimeout` thrown.
  public func execute(
    _ commandLine: String, timeout: Duration?, input: CommandInput,
    output: @escaping @Sendable (OutputChunk.Stream, [UInt8]) async -> Void
  ) async throws -> ExitStatus {
    let context = CommandContext(node: self, verbose: false, timeout: timeout)
    return try await context.withinTimeLimit(commandLine) {
      try await Self.run(commandLine, input: input, output: output)
    }
  }

  /// Sets SIGPIPE to be ignored, if it is at its default, before the first input is written to a
  /// local command: a command that exits without reading all its input (`head -1`, `true`) closes
  /// the pipe, and the next write must fail with EPIPE (ending the feeding quietly) instead of
  /// killing this process. (Pipes have no per-write `MSG_NOSIGNAL`; Python does the same at start.)
  private static let brokenPipesIgnored: Void = {
    var current = sigaction()
    guard sigaction(SIGPIPE, nil, &current) == 0, current.__sigaction_handler.sa_handler == nil else { return }
    signal(SIGPIPE, SIG_IGN)
  }()

  private static func run(
    _ commandLine: String, input: CommandInput, output: @escaping @Sendable (OutputChunk.Stream, [UInt8]) async -> Void
  ) async throws -> ExitStatus {
    if input.makeReader != nil { _ = brokenPipesIgnored }
    // A process group of its own, stopped whole (TERM, then KILL 2 s later) when cancelled or
    // timed out, as a remote command's is.
    var options = PlatformOptions()
    options.processGroupID = 0
    options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: .seconds(2))]
    let result = try await Subprocess.run(
      .path("/bin/sh"), arguments: ["-c", commandLine], platformOptions: options, input: .inputWriter,
      output: .sequence, error: .sequence
    ) { execution in
      try await withThrowingTaskGroup(of: Void.self) { group in
        let writer = execution.standardInputWriter
        group.addTask {
          // Input, then end-of-file; a command that stops reading ends the feeding quietly.
          if let reader = input.makeReader?() {
            do {
              while let chunk = try await reader() { _ = try await writer.write(chunk) }
            } catch is SubprocessError {}
          }
          try? await writer.finish()
        }
        group.addTask {
          for try await buffer in execution.standardOutput {
            let bytes = buffer.withUnsafeBytes { Array($0) }
            await output(.stdout, bytes)
          }
        }
        group.addTask {
          for try await buffer in execution.standardError {
            let bytes = buffer.withUnsafeBytes { Array($0) }
            await output(.stderr, bytes)
          }
        }
        try await group.waitForAll()
      }
    }
    // Cancelled, the process was stopped (see above) and ended with a signal: that is not its
    // status, the caller gave up on it.
    try Task.checkCancellation()
    switch result.terminationStatus {
    case .exited(let code): return .code(code)
    case .signaled(let signal): return .signal(signalName(signal))
    }
  }
}

/// `TERM` for 15, etc.
func signalName(_ number: Int32) -> String {
  let names: [Int32: String] = [
    SIGHUP: "HUP", SIGINT: "INT", SIGQUIT: "QUIT", SIGILL: "ILL", SIGABRT: "ABRT", SIGFPE: "FPE",
    SIGKILL: "KILL", SIGSEGV: "SEGV", SIGPIPE: "PIPE", SIGALRM: "ALRM", SIGTERM: "TERM", SIGUSR1: "USR1",
    SIGUSR2: "USR2", SIGBUS: "BUS", SIGTRAP: "TRAP",
  ]
  return names[number] ?? String(number)
}
