import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What `/proc` tells about processes: parents, descendants, open sockets, command lines.
enum ProcessTree {
  /// Parent pid of every process (from `/proc/PID/stat`).
  static func parents() -> [pid_t: pid_t] {
    var result: [pid_t: pid_t] = [:]
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else {
      return result
    }
    for entry in entries {
      guard let pid = pid_t(entry), let stat = FileIO.read("/proc/\(entry)/stat"),
        let close = stat.lastIndex(of: ")")
      else { continue }
      let fields = stat[stat.index(after: close)...].split(separator: " ")
      if fields.count > 1, let parent = pid_t(fields[1]) { result[pid] = parent }
    }
    return result
  }

  /// All descendants of the given processes (children, grandchildren, …), not the roots.
  static func descendants(of roots: [pid_t]) -> [pid_t] {
    let parents = parents()
    var children: [pid_t: [pid_t]] = [:]
    for (pid, parent) in parents { children[parent, default: []].append(pid) }
    var result: [pid_t] = []
    var stack = roots
    while let pid = stack.popLast() {
      for child in children[pid] ?? [] {
        result.append(child)
        stack.append(child)
      }
    }
    return result
  }

  /// Inodes of the sockets a process has open (`socket:[N]` links in `/proc/PID/fd`).
  static func socketInodes(of pid: pid_t) -> Set<UInt64> {
    let directory = "/proc/\(pid)/fd"
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
      return []
    }
    var result: Set<UInt64> = []
    for entry in entries {
      guard
        let target = try? FileManager.default.destinationOfSymbolicLink(
          atPath: "\(directory)/\(entry)"),
        target.hasPrefix("socket:["), let inode = UInt64(target.dropFirst(8).dropLast())
      else { continue }
      result.insert(inode)
    }
    return result
  }

  /// The command line of a process, arguments joined by spaces (nil if it is gone).
  static func commandLine(of pid: pid_t) -> String? {
    guard let data = FileIO.readBytes("/proc/\(pid)/cmdline"), !data.isEmpty else { return nil }
    return String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
  }

  /// Whether a process exists and is not a zombie (for processes that are not our children).
  static func isAlive(_ pid: pid_t) -> Bool {
    guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
    guard let stat = FileIO.read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else {
      return true
    }
    let state = stat[stat.index(after: close)...].split(separator: " ").first
    return state != "Z" && state != "X"
  }

  /// Sends `signal` to the process group `pid` (an sshd started in its own session) and to the
  /// given extra processes.
  static func signal(group pid: pid_t, and others: [pid_t], _ signal: Int32) {
    kill(-pid, signal)
    kill(pid, signal)
    for other in others { kill(other, signal) }
  }
}
