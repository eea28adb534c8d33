import Synchronization

/// Where an ``SshConnection`` stands.
///
/// ```
/// idle ──connect()──▶ connecting ──▶ connected ──lost──▶ failed
///   ▲                    │   ▲            │                 │
///   └──all callers gone──┘   └─connect()──┼─────────────────┘
///                        │                │
///                        └──▶ failed      └──close()──▶ closed ──connect()──▶ connecting
/// ```
public enum ConnectionState: Sendable, CustomStringConvertible {
  /// Not open, no attempt in progress (at first, or after an attempt every caller gave up).
  case idle
  /// An attempt (TCP or tunnel, handshake, host key, authentication) is in progress, or waiting
  /// to retry.
  case connecting
  /// Open and usable.
  case connected
  /// The last attempt failed, or the open connection was lost; `connect()` tries again.
  case failed(SshError)
  /// Closed by ``SshConnection/close()``; `connect()` opens it again.
  case closed

  /// `idle`, `connecting`, `connected`, `failed: <reason>` or `closed`.
  public var description: String {
    switch self {
    case .idle: return "idle"
    case .connecting: return "connecting"
    case .connected: return "connected"
    case .failed(let error): return "failed: \(error.message)"
    case .closed: return "closed"
    }
  }
}

/// A step in the life of an ``SshConnection``, reported in order to its `onEvent` handler.
public enum ConnectionEvent: Sendable, CustomStringConvertible {
  /// Attempt `attempt` of `of` starts (TCP connect or tunnel, then handshake and authentication).
  case connecting(attempt: Int, of: Int)
  /// The connection is open and authenticated.
  case connected
  /// An attempt failed; `willRetry` says whether another one follows (after the retry delay).
  case attemptFailed(SshError, willRetry: Bool)
  /// The open connection was lost (the server went away, the network failed).
  case lost(SshError)
  /// The open connection was closed by ``SshConnection/close()``.
  case closed
  /// The host's key was unknown and has been recorded in the known_hosts file (policy
  /// `accept-new`), once per host and key in the process. `host` is named as known_hosts names it
  /// (`host`, or `[host]:port` when the port is not 22), `keyType` as OpenSSH does (`ED25519`,
  /// `RSA`, `ECDSA`, `DSA`).
  case hostKeyRecorded(host: String, keyType: String, file: String)
  /// Host key checking is off, and the host offered a key that differs from the one recorded for
  /// it in the known_hosts file (at `line`, when found): the connection goes on. Reported once per
  /// host and key in the process.
  case hostKeyChangedUnchecked(host: String, keyType: String, file: String, line: Int?)

  /// A short text: `connecting (1/3)`, `connected`, `attempt failed: …`, `lost: …`, `closed`,
  /// `host key recorded: …`, `host key changed: …`.
  public var description: String {
    switch self {
    case .connecting(let attempt, let total): return "connecting (\(attempt)/\(total))"
    case .connected: return "connected"
    case .attemptFailed(let error, let retry): return "attempt failed\(retry ? ", will retry" : ""): \(error.message)"
    case .lost(let error): return "lost: \(error.message)"
    case .closed: return "closed"
    case .hostKeyRecorded(let host, let type, let file): return "host key recorded: \(host) (\(type)) in \(file)"
    case .hostKeyChangedUnchecked(let host, let type, let file, let line):
      return "host key changed, not checked: \(host) (\(type)) differs from \(file)\(line.map { " line \($0)" } ?? "")"
    }
  }
}

/// A task that is created after the things that may need to cancel it (a promise's
/// `onAbandoned`): cancelling before the task is set cancels it as soon as it is.
final class TaskHandle: Sendable {
  private struct State {
    var task: Task<Void, Never>?
    var cancelled = false
  }
  private let state = Mutex(State())

  /// Sets the task (once).
  func set(_ task: Task<Void, Never>) {
    let cancel = state.withLock { state in
      state.task = task
      return state.cancelled
    }
    if cancel { task.cancel() }
  }

  /// Cancels the task, now or as soon as it is set.
  func cancel() {
    let task = state.withLock { state in
      state.cancelled = true
      return state.task
    }
    task?.cancel()
  }

  /// Waits for the task to end.
  func wait() async {
    await state.withLock { $0.task }?.value
  }
}
