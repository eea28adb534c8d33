import Foundation
import SshJobs

/// Lets the CLI stop a remote command when it is cancelled (Ctrl-C) or times out.
///
/// Closing an SSH channel does not stop a remote command that has no terminal, and libssh2 1.10
/// cannot send a signal request. But sshd starts each command in a session of its own (`setsid`),
/// whose process group id is the pid of the user's shell: the command line is prefixed with
/// `echo $$ > FILE`, and stopping sends SIGTERM to that whole group over the same connection
/// (then removes the file, which a normal end removes too).
struct RemoteProcessGroup: Sendable {
  /// The remote pid file, unique to one command on one host.
  let pidFile: String

  /// A fresh pid file name in the remote temporary directory.
  init() {
    pidFile = "${TMPDIR:-/tmp}/.apssh-\(UUID().uuidString.lowercased()).pid"
  }

  /// `command` prefixed so that the remote shell records its pid (and removes the file at exit).
  func wrap(_ command: String) -> String {
    "echo $$ > \(pidFile); trap 'rm -f \(pidFile)' EXIT; \(command)"
  }

  /// Sends SIGTERM to the remote process group, from a task that is not cancelled, within 3 seconds.
  func stop(on node: SshNode) async {
    let line = "kill -TERM -$(cat \(pidFile)) 2>/dev/null; rm -f \(pidFile)"
    let attempt = Task { _ = try? await node.execute(line) { _, _ in } }
    let limit = Task {
      try? await Task.sleep(for: .seconds(3))
      attempt.cancel()
    }
    await attempt.value
    limit.cancel()
  }
}
