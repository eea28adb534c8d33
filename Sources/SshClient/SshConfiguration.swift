import Foundation

/// How host keys are checked against a known_hosts file.
public enum HostKeyPolicy: String, Sendable, CaseIterable {
  /// Unknown hosts are accepted and recorded; a changed key is refused (OpenSSH's `accept-new`).
  case acceptNew = "accept-new"
  /// Only hosts already in the file are accepted.
  case strict
  /// No checking at all (for throwaway test hosts only).
  case off
}

/// Everything needed to open one SSH connection.
public struct SshConfiguration: Sendable {
  /// The host name or address to connect to.
  public var host: String
  /// The TCP port, 22 by default.
  public var port: Int
  /// The remote user; the local user by default.
  public var username: String
  /// Private key files to try, in order; `nil` means `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`.
  public var keyPaths: [String]?
  /// Whether to try the ssh-agent first.
  public var useAgent: Bool
  /// The ssh-agent's socket; nil for `$SSH_AUTH_SOCK` (read when connecting).
  public var agentPath: String?
  /// Gives the passphrase of an encrypted key file (its path as argument); by default the
  /// `APSSH_KEY_PASSPHRASE` environment variable.
  public var passphrase: (@Sendable (String) -> String?)?
  /// Host-key checking policy.
  public var hostKeyPolicy: HostKeyPolicy
  /// The known_hosts file; `~/.ssh/known_hosts` by default.
  public var knownHostsPath: String?
  /// Deadline for TCP connect, handshake and authentication together, per attempt.
  public var connectTimeout: Duration
  /// How many times ``SshConnection/connect()`` tries before it gives up (at least 1); only
  /// errors worth retrying (``SshError/isRetryable``) lead to another attempt.
  public var connectionAttempts: Int
  /// The pause between two connection attempts.
  public var retryDelay: Duration
  /// Interval of SSH keepalive messages; `nil` disables them.
  public var keepaliveInterval: Duration?
  /// How many session channels (commands, SFTP) may be open at once: the server's `MaxSessions`.
  public var maxSessions: Int
  /// The socket's send buffer (`SO_SNDBUF`), when not the system's: tests make it small so that
  /// sends fall short.
  var socketSendBufferSize: Int?

  /// Creates a configuration; only the host is required.
  public init(
    host: String, port: Int = 22, username: String? = nil, keyPaths: [String]? = nil, useAgent: Bool = true,
    passphrase: (@Sendable (String) -> String?)? = nil, hostKeyPolicy: HostKeyPolicy = .acceptNew,
    knownHostsPath: String? = nil, connectTimeout: Duration = .seconds(10), connectionAttempts: Int = 1,
    retryDelay: Duration = .seconds(1), keepaliveInterval: Duration? = .seconds(30), maxSessions: Int = 10
  ) {
    self.host = host
    self.port = port
    self.username = username ?? SshConfiguration.localUsername
    // `~/.ssh/key` as written in inventories and scenario files.
    self.keyPaths = keyPaths?.map(HomeDirectory.expandingTilde(in:))
    self.useAgent = useAgent
    self.passphrase = passphrase
    self.hostKeyPolicy = hostKeyPolicy
    self.knownHostsPath = knownHostsPath
    self.connectTimeout = connectTimeout
    self.connectionAttempts = max(1, connectionAttempts)
    self.retryDelay = retryDelay
    self.keepaliveInterval = keepaliveInterval
    self.maxSessions = max(1, maxSessions)
  }

  /// `user@host`, with `:port` when the port is not 22: how errors name the host.
  public var label: String { port == 22 ? "\(username)@\(host)" : "\(username)@\(host):\(port)" }

  /// The key files tried when none are given.
  public static var defaultKeyPaths: [String] {
    let ssh = homeDirectory + "/.ssh/"
    return ["id_ed25519", "id_ecdsa", "id_rsa"].map { ssh + $0 }
  }

  /// The known_hosts file used when none is given.
  public static var defaultKnownHostsPath: String { homeDirectory + "/.ssh/known_hosts" }

  /// The name of the local user.
  public static var localUsername: String {
    if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
    return ProcessInfo.processInfo.environment["USER"] ?? "root"
  }

  static var homeDirectory: String { HomeDirectory.path }
}

/// How a remote command ended.
public enum ExitStatus: Sendable, Hashable, CustomStringConvertible {
  /// The command exited with this status (0–255).
  case code(Int32)
  /// The command was killed by this signal (`TERM`, `KILL`, …, without `SIG`).
  case signal(String)

  /// True for `.code(0)`.
  public var isSuccess: Bool { self == .code(0) }

  /// `0`, `1`, … or `SIGTERM`.
  public var description: String {
    switch self {
    case .code(let code): return String(code)
    case .signal(let name): return "SIG" + name
    }
  }
}

/// A piece of a command's output, as it arrived.
public struct OutputChunk: Sendable {
  /// Which stream the bytes came from.
  public enum Stream: Sendable { case stdout, stderr }
  /// The stream.
  public let stream: Stream
  /// The bytes, not split into lines.
  public let bytes: [UInt8]

  /// Creates a chunk (for other sources of output, such as local commands).
  public init(stream: Stream, bytes: [UInt8]) {
    self.stream = stream
    self.bytes = bytes
  }
}

/// The whole output of a command run with ``SshConnection/run(_:pty:timeout:)``.
public struct CommandResult: Sendable {
  /// Everything the command wrote on stdout.
  public var stdout: [UInt8]
  /// Everything the command wrote on stderr.
  public var stderr: [UInt8]
  /// How it ended.
  public var status: ExitStatus
  /// stdout decoded as UTF-8 (invalid sequences repaired).
  public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
  /// stderr decoded as UTF-8 (invalid sequences repaired).
  public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

extension ExitStatus {
  /// The status as a shell reports it: the code, or 128 + the signal's number (`TERM` → 143;
  /// 128 + 64 for a signal this platform does not name).
  public var shellStatus: Int32 {
    switch self {
    case .code(let code): return code
    case .signal(let name):
      return 128 + (ExitStatus.signalNumbers[name.hasPrefix("SIG") ? String(name.dropFirst(3)) : name] ?? 64)
    }
  }

  /// Signal numbers by name (Linux).
  static let signalNumbers: [String: Int32] = [
    "HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "BUS": 7, "FPE": 8, "KILL": 9, "USR1": 10,
    "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15, "CHLD": 17, "CONT": 18, "STOP": 19, "TSTP": 20,
    "TTIN": 21, "TTOU": 22, "URG": 23, "XCPU": 24, "XFSZ": 25, "VTALRM": 26, "PROF": 27, "WINCH": 28, "IO": 29,
    "PWR": 30, "SYS": 31,
  ]
}
