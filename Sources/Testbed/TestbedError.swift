#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Why a testbed could not be started, inspected or stopped.
public enum TestbedError: Error, CustomStringConvertible, Sendable {
  /// A host count outside 1...`Testbed.maximumHosts`.
  case invalidHostCount(Int)
  /// `posix_spawn` of a tool failed.
  case spawnFailed(command: String, reason: String)
  /// A tool (ssh-keygen, useradd, …) exited with a non-zero code.
  case commandFailed(command: String, code: Int32, output: String)
  /// A system call failed.
  case system(call: String, errno: Int32)
  /// An sshd exited during start-up; `log` is the content of its log file.
  case sshdDied(logPath: String, log: String)
  /// sshd did not listen on every address before the deadline.
  case sshdNotReady(logPath: String, log: String)
  /// No free port could be found after several attempts.
  case noFreePort
  /// The dedicated login could not be set up (as root).
  case userSetup(String)
  /// The testbed directory cannot be read by the login user (as root, every ancestor of the
  /// directory must be searchable by others, since sshd reads authorized_keys as that user).
  case directoryNotAccessible(String)
  /// The testbed directory is not safe to hold `authorized_keys`: owned by another user, writable
  /// by group or others, a symbolic link, or not a directory.
  case unsafeDirectory(String)
  /// No testbed description (`testbed.json`) in that directory, or an unreadable one.
  case noTestbed(directory: String)
  /// The testbed was already stopped.
  case stopped

  /// A human-readable explanation.
  public var description: String {
    switch self {
    case .invalidHostCount(let count):
      return "invalid host count \(count) (1...\(Testbed.maximumHosts))"
    case .spawnFailed(let command, let reason): return "cannot start \(command): \(reason)"
    case .commandFailed(let command, let code, let output):
      return "\(command) exited with \(code): \(output)"
    case .system(let call, let code): return "\(call): \(String(cString: strerror(code)))"
    case .sshdDied(let path, let log): return "sshd exited during start-up; \(path):\n\(log)"
    case .sshdNotReady(let path, let log):
      return "sshd did not listen on all its addresses in time; \(path):\n\(log)"
    case .noFreePort: return "no free port found for the testbed"
    case .userSetup(let message): return "cannot set up the testbed login: \(message)"
    case .directoryNotAccessible(let message): return message
    case .unsafeDirectory(let message): return message
    case .noTestbed(let directory): return "no testbed in \(directory) (no readable testbed.json)"
    case .stopped: return "the testbed is stopped"
    }
  }
}
