/// How a remote command is stopped when its caller gives up on it (cancellation, timeout).
///
/// Without a pseudo-terminal, sshd does not signal a command whose channel closes, and libssh2
/// 1.10 cannot send the `signal` channel request (RFC 4254 §6.9; and OpenSSH before 9.8 refuses it
/// to root anyway). So a command that may have to be stopped is started behind a one-line
/// launcher that every login shell (sh, bash, zsh, ksh, fish, csh, tcsh) runs the same way — a path,
/// `-c` and one single-quoted word without `!` — in which `/bin/sh` prints the process group of the
/// session on stderr, between two `RS` (0x1E) bytes:
///
/// ```
/// /bin/sh -c 'printf "\036apssh-pgid:%s\036" "$PPID" >&2'
/// <the command, unchanged, on the next line>
/// ```
///
/// `$PPID` of that `/bin/sh` is the login shell that sshd started with `setsid()`: the leader of
/// the command's session and process group. The report is taken out of the stderr stream before
/// anyone sees it (``ProcessGroupReport``), and stopping the command is one more command on the
/// same connection, `/bin/sh -c 'kill -s TERM -- -<group>'`. Nothing is written on the remote host.
enum RemoteProcessGroup {
  /// The bytes that start a report.
  static let reportPrefix: [UInt8] = [0x1E] + Array("apssh-pgid:".utf8)
  /// The byte that ends a report.
  static let reportEnd: UInt8 = 0x1E

  /// `command` behind the launcher line.
  static func launching(_ command: String) -> String {
    #"/bin/sh -c 'printf "\036apssh-pgid:%s\036" "$PPID" >&2'"# + "\n" + command
  }

  /// The command that sends `signal` (`TERM`, `KILL`…) to every process group of `groups`.
  static func stopCommand(signal: String, groups: [Int32]) -> String {
    let targets = groups.map { "-\($0)" }.joined(separator: " ")
    return "/bin/sh -c 'kill -s \(signal) -- \(targets) 2>/dev/null'"
  }
}

/// Takes the launcher's report (see ``RemoteProcessGroup``) out of a command's stderr stream.
///
/// Bytes are held back until the report is complete, then delivered without it; bytes before the
/// report (a login script's messages) are kept. After ``holdLimit`` bytes without a report, or at
/// the end of the stream, what is held is delivered as it is. Pure logic: feed it chunks.
struct ProcessGroupReport {
  /// The most stderr bytes held back while waiting for the report.
  static let holdLimit = 4096

  private enum State {
    case searching([UInt8])
    case found(Int32)
    case gaveUp
  }
  private var state = State.searching([])

  /// The remote process group, once reported.
  var processGroup: Int32? {
    if case .found(let group) = state { return group }
    return nil
  }

  /// Whether bytes are still held back waiting for the report.
  var isSearching: Bool {
    if case .searching = state { return true }
    return false
  }

  /// Takes a chunk of stderr; returns the bytes to deliver now.
  mutating func take(_ bytes: [UInt8]) -> [UInt8] {
    guard case .searching(var held) = state else { return bytes }
    held += bytes
    if let (group, range) = Self.findReport(in: held) {
      state = .found(group)
      held.removeSubrange(range)
      return held
    }
    if held.count > Self.holdLimit {
      state = .gaveUp
      return held
    }
    state = .searching(held)
    return []
  }

  /// The end of the stream: returns what was held back.
  mutating func finish() -> [UInt8] {
    guard case .searching(let held) = state else { return [] }
    state = .gaveUp
    return held
  }

  /// The group and the byte range of a complete report in `bytes`.
  static func findReport(in bytes: [UInt8]) -> (Int32, Range<Int>)? {
    let prefix = RemoteProcessGroup.reportPrefix
    var searchFrom = 0
    while searchFrom < bytes.count, let start = bytes[searchFrom...].firstIndex(of: prefix[0]) {
      let digitsStart = start + prefix.count
      guard digitsStart <= bytes.count else { return nil }
      if bytes[start..<digitsStart].elementsEqual(prefix) {
        var index = digitsStart
        while index < bytes.count, (0x30...0x39).contains(bytes[index]), index - digitsStart < 10 { index += 1 }
        if index < bytes.count, bytes[index] == RemoteProcessGroup.reportEnd, index > digitsStart,
          let group = Int32(String(decoding: bytes[digitsStart..<index], as: UTF8.self)), group > 1
        {
          return (group, start..<(index + 1))
        }
      }
      searchFrom = start + 1
    }
    return nil
  }
}
