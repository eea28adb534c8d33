import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The account the testbed's hosts log in as.
///
/// As an ordinary user it is that user. As root it is a dedicated unprivileged login,
/// `TestbedUser.dedicatedName` (`apsshtb`), created once with `useradd` (idempotently, also when
/// several processes race) with shell `/bin/sh`, a real home directory (`/home/apsshtb`) and the
/// password field `*` (not `!`: sshd without PAM refuses locked accounts). This keeps root's heavy
/// shell start-up out of every command and every measurement.
public struct TestbedUser: Sendable, Hashable, Codable {
  /// Login name.
  public var name: String
  /// Numeric user id.
  public var uid: UInt32
  /// Numeric primary group id.
  public var gid: UInt32
  /// Home directory.
  public var home: String
  /// Login shell.
  public var shell: String

  /// Name of the dedicated login used when the testbed runs as root.
  public static let dedicatedName = "apsshtb"

  /// Whether this process runs as root (and so uses the dedicated login).
  public static var runningAsRoot: Bool { geteuid() == 0 }

  /// The login to use: the current user, or (as root) the dedicated one, created if needed.
  public static func resolve() async throws -> TestbedUser {
    if !runningAsRoot {
      guard let user = lookup(uid: geteuid()) else {
        throw TestbedError.userSetup("no passwd entry for uid \(geteuid())")
      }
      return user
    }
    return try await ensureDedicated()
  }

  /// Looks a user up by name in the passwd database.
  public static func lookup(name: String) -> TestbedUser? {
    guard let entry = getpwnam(name) else { return nil }
    return TestbedUser(entry.pointee)
  }

  static func lookup(uid: uid_t) -> TestbedUser? {
    guard let entry = getpwuid(uid) else { return nil }
    return TestbedUser(entry.pointee)
  }

  private init(_ entry: passwd) {
    name = String(cString: entry.pw_name)
    uid = entry.pw_uid
    gid = entry.pw_gid
    home = String(cString: entry.pw_dir)
    shell = String(cString: entry.pw_shell)
  }

  /// Creates or repairs the dedicated login (as root).
  private static func ensureDedicated() async throws -> TestbedUser {
    let name = dedicatedName
    var lastError = ""
    for _ in 0..<50 {
      if let user = lookup(name: name) {
        try await repair(user)
        guard let repaired = lookup(name: name) else { continue }
        return repaired
      }
      // useradd fails (9: name in use, 1/10: files locked) when another process races us:
      // look again after a short pause.
      let (code, output) = try await Subprocess.run(
        "/usr/sbin/useradd",
        ["-m", "-s", "/bin/sh", "-p", "*", "-c", "apssh-swift testbed", name])
      if code == 0 { continue }
      lastError = "useradd exited with \(code): \(output)"
      try await Task.sleep(for: .milliseconds(100))
    }
    throw TestbedError.userSetup(lastError)
  }

  /// Makes an existing dedicated login usable: shell /bin/sh, unlocked password field, home.
  private static func repair(_ user: TestbedUser) async throws {
    if user.shell != "/bin/sh" {
      try await Subprocess.check("/usr/sbin/usermod", ["-s", "/bin/sh", user.name])
    }
    if passwordField(of: user.name)?.hasPrefix("!") ?? false {
      try await Subprocess.check("/usr/sbin/usermod", ["-p", "*", user.name])
    }
    var info = stat()
    if stat(user.home, &info) != 0 {
      mkdir(user.home, 0o755)
      chown(user.home, user.uid, user.gid)
    }
  }

  /// The password field of /etc/shadow for `name` (readable as root).
  static func passwordField(of name: String) -> String? {
    guard let shadow = FileIO.read("/etc/shadow") else { return nil }
    for line in shadow.split(separator: "\n") {
      let fields = line.split(separator: ":", omittingEmptySubsequences: false)
      if fields.count > 1, fields[0] == name { return String(fields[1]) }
    }
    return nil
  }
}
