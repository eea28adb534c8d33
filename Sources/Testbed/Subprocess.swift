#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Spawning and reaping child processes with `posix_spawn`, without Foundation's `Process`.
///
/// Children get a clean signal state, only the descriptors asked for (everything else is closed),
/// and optionally a session of their own (`setsid`), so that killing the process group ends the
/// process and the children it forked. Waiting never blocks a thread: it polls `waitpid(WNOHANG)`
/// between short `Task.sleep`s, with a bound.
enum Subprocess {
  /// The `POSIX_SPAWN_SETSID` flag of glibc (not always exported to Swift).
  private static let spawnSetSID: Int32 = 0x80

  /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), looked up at run time since
  /// Swift does not import it: closes every descriptor above stderr in the child.
  private static let closeFromAction:
    (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
      guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
      return unsafeBitCast(
        symbol,
        to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

  /// A C string buffer (e.g. filled by mkstemp) as a String.
  static func string(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// A minimal environment for the tools we run.
  static let environment = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"]

  /// Starts `path` with `arguments` (not including argv[0]); stdin from `stdinFD` (or /dev/null),
  /// stdout and stderr to `outputPath` (or /dev/null). Returns the child's pid.
  static func spawn(
    _ path: String, _ arguments: [String], newSession: Bool = false, stdinFD: Int32? = nil,
    outputPath: String? = nil
  ) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if let stdinFD {
      posix_spawn_file_actions_adddup2(&actions, stdinFD, 0)
    } else {
      posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    }
    let output = outputPath ?? "/dev/null"
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    if let closeFrom = closeFromAction { _ = closeFrom(&actions, 3) }

    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var flags = Int32(POSIX_SPAWN_SETSIGMASK) | Int32(POSIX_SPAWN_SETSIGDEF)
    if newSession { flags |= spawnSetSID }
    posix_spawnattr_setflags(&attributes, Int16(flags))
    var emptyMask = sigset_t()
    sigemptyset(&emptyMask)
    posix_spawnattr_setsigmask(&attributes, &emptyMask)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in [SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGTERM, SIGCHLD, SIGUSR1, SIGUSR2] {
      sigaddset(&defaults, signal)
    }
    posix_spawnattr_setsigdefault(&attributes, &defaults)

    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
    let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
    defer {
      for pointer in argv { free(pointer) }
      for pointer in envp { free(pointer) }
    }
    var pid: pid_t = 0
    let status = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
    guard status == 0 else {
      throw TestbedError.spawnFailed(command: path, reason: String(cString: strerror(status)))
    }
    return pid
  }

  /// Reaps `pid` if it has exited; returns its wait status, or nil while it runs.
  /// A pid that is not (or no longer) our child counts as exited with status -1.
  static func reapIfExited(_ pid: pid_t) -> Int32? {
    var status: Int32 = 0
    while true {
      let result = waitpid(pid, &status, WNOHANG)
      if result == pid { return status }
      if result == 0 { return nil }
      if errno == EINTR { continue }
      return -1
    }
  }

  /// Waits (polling, without blocking a thread) until `pid` exits or `timeout` passes.
  /// Returns the wait status, or nil on timeout.
  static func wait(_ pid: pid_t, timeout: Duration) async -> Int32? {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    var pause = Duration.milliseconds(1)
    while true {
      if let status = reapIfExited(pid) { return status }
      if clock.now >= deadline { return nil }
      try? await Task.sleep(for: pause)
      pause = min(pause * 2, .milliseconds(20))
    }
  }

  /// The same as `wait(_:timeout:)` for use where no task can sleep (e.g. at process exit).
  static func waitSynchronously(_ pid: pid_t, timeout: Duration) -> Int32? {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while true {
      if let status = reapIfExited(pid) { return status }
      if clock.now >= deadline { return nil }
      usleep(5_000)
    }
  }

  /// Exit code of a wait status (128 + signal number when killed by a signal).
  static func exitCode(_ status: Int32) -> Int32 {
    if status < 0 { return -1 }
    let signal = status & 0x7f
    return signal == 0 ? (status >> 8) & 0xff : 128 + signal
  }

  /// Runs a tool to completion and returns its exit code and combined stdout/stderr.
  static func run(_ path: String, _ arguments: [String], timeout: Duration = .seconds(30))
    async throws -> (code: Int32, output: String)
  {
    var template = Array("/tmp/apssh-testbed-cmd-XXXXXX".utf8CString)
    let fd = mkstemp(&template)
    guard fd >= 0 else { throw TestbedError.system(call: "mkstemp", errno: errno) }
    close(fd)
    let outputPath = string(template)
    defer { unlink(outputPath) }
    let pid = try spawn(path, arguments, outputPath: outputPath)
    guard let status = await wait(pid, timeout: timeout) else {
      kill(pid, SIGKILL)
      _ = await wait(pid, timeout: .seconds(5))
      throw TestbedError.commandFailed(
        command: ([path] + arguments).joined(separator: " "), code: -1,
        output: "timed out after \(timeout)")
    }
    return (exitCode(status), FileIO.read(outputPath) ?? "")
  }

  /// Runs a tool and throws `commandFailed` unless it exits with 0.
  @discardableResult
  static func check(_ path: String, _ arguments: [String]) async throws -> String {
    let (code, output) = try await run(path, arguments)
    guard code == 0 else {
      throw TestbedError.commandFailed(
        command: ([path] + arguments).joined(separator: " "), code: code,
        output: output)
    }
    return output
  }
}
