import AsyncJobs
import Foundation
import SshClient

/// How a run ended: each job's outcome, in the order of the spec.
public struct RunOutcome: Sendable {
  /// The jobs' outcomes.
  public let jobs: [JobOutcome]
  /// Whether the run was cancelled (Ctrl-C, a signal).
  public let interrupted: Bool
  /// Whether the run's own time limit (``RunSpec/timeout``) stopped it.
  public let timedOut: Bool

  /// Whether every job succeeded and nothing stopped the run.
  public var succeeded: Bool { !interrupted && !timedOut && jobs.allSatisfy(\.succeeded) }

  /// The jobs that did not succeed.
  public var failures: [JobOutcome] { jobs.filter { !$0.succeeded } }
}

/// How one job ended.
public struct JobOutcome: Sendable {
  /// How a job ended.
  public enum Status: Sendable, Equatable {
    /// Every command succeeded.
    case ok
    /// A command ended with a status that is not allowed (non-zero, or killed by a signal).
    case failed(ExitStatus)
    /// The job could not do its work (connection, transfer, timeout…): the message says why.
    case error(String)
    /// The run was interrupted, or stopped by its own timeout, while the job ran or waited.
    case cancelled
    /// The job never started (a critical failure stopped the run first).
    case skipped

    /// `ok`, `failed`, `error`, `cancelled` or `skipped`.
    public var name: String {
      switch self {
      case .ok: return "ok"
      case .failed: return "failed"
      case .error: return "error"
      case .cancelled: return "cancelled"
      case .skipped: return "skipped"
      }
    }
  }

  /// The job's spec.
  public let spec: JobSpec
  /// The label of listings (the spec's, else the first command's).
  public let label: String
  /// The host the job ran on (`LOCALNODE` for the local host).
  public let hostname: String
  /// The user it ran as.
  public let username: String
  /// The SSH port (nil for the local host).
  public let port: Int?
  /// How it ended.
  public let status: Status
  /// What the job threw, if it did.
  public let error: (any Error)?
  /// When it started and ended (wall clock), if it did.
  public let start: Date?
  /// See ``start``.
  public let end: Date?
  /// The name the output of the job's node is shown under (its host name, or `host:port` when
  /// another node of the run has the same host name).
  public let displayName: String

  /// Whether the job did its work: `ok`, or a forever job stopped at the end of the run.
  public var succeeded: Bool { status == .ok }

  /// The exit status of the command that decided the outcome, when one ran to its end.
  public var exitStatus: ExitStatus? {
    switch status {
    case .ok: return .code(0)
    case .failed(let status): return status
    default: return nil
    }
  }

  /// Whether the job failed because its host could not be reached or logged into (DNS, refused,
  /// unreachable, connect timeout, handshake, host key, authentication).
  public var isUnreachable: Bool {
    guard let error = error as? SshError else { return false }
    switch error.code {
    case .dnsFailure, .connectionRefused, .unreachable, .connectTimeout, .handshakeFailed, .hostKeyMismatch,
      .hostKeyUnknown, .authenticationFailed:
      return true
    default:
      return false
    }
  }

  /// What went wrong, when the job has no exit status to show.
  public var errorMessage: String? {
    switch status {
    case .ok, .failed: return nil
    case .error(let message): return message
    case .cancelled: return "cancelled"
    case .skipped: return "not run"
    }
  }

  init(spec: JobSpec, job: SshJob, start: Date?, end: Date?, runStopped: Bool) {
    self.spec = spec
    label = job.effectiveLabel
    hostname = job.node.hostname
    username = job.node.username
    displayName = job.node.origin.hostname
    port = (job.node as? SshNode)?.port
    self.start = start
    self.end = end
    error = job.error
    if let status = job.result as? ExitStatus {
      self.status = status.isSuccess ? .ok : .failed(status)
    } else if let failure = job.error as? CommandFailedError {
      status = .failed(failure.status)
    } else if let error = job.error {
      status = .error((error as? SshError)?.description ?? String(describing: error))
    } else if job.wasCancelled {
      // A forever job is stopped when the others are done: that is its normal end.
      status = job.forever && !runStopped ? .ok : .cancelled
    } else {
      status = .skipped
    }
  }
}
