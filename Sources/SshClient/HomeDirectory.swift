import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The local user's home directory, the one place every module computes it: `$HOME` when set
/// (as the shell that expands `~` in arguments uses it), else the home of the user's passwd entry.
///
/// Foundation on Linux (`NSHomeDirectory()`, `expandingTildeInPath`) reads the passwd entry only,
/// which made `~/.apssh/inventory.yaml` and `~/.ssh/id_ed25519` come from different homes when
/// `$HOME` was set elsewhere; use this type instead.
public enum HomeDirectory {
  /// `$HOME` when set and not empty; else the passwd entry's home; else `/`.
  public static var path: String {
    if let home = getenv("HOME").map({ String(cString: $0) }), !home.isEmpty { return home }
    return passwdHome(of: nil) ?? "/"
  }

  /// `path` with a leading `~` (the local user's home, ``path``) or `~user` (that user's passwd
  /// home) expanded; any other path is returned as it is, as is `~user` for an unknown user.
  public static func expandingTilde(in path: String) -> String {
    guard path.hasPrefix("~") else { return path }
    let slash = path.firstIndex(of: "/") ?? path.endIndex
    let user = path[path.index(after: path.startIndex)..<slash]
    let rest = path[slash...]
    let home: String
    if user.isEmpty {
      home = Self.path
    } else if let other = passwdHome(of: String(user)) {
      home = other
    } else {
      return path
    }
    if rest.isEmpty { return home }
    return (home.hasSuffix("/") ? String(home.dropLast()) : home) + rest
  }

  /// The home directory of `user` (the current user when nil) in the passwd database.
  private static func passwdHome(of user: String?) -> String? {
    var entry = passwd()
    var result: UnsafeMutablePointer<passwd>?
    var buffer = [CChar](repeating: 0, count: 16_384)
    let rc: Int32
    if let user {
      rc = getpwnam_r(user, &entry, &buffer, buffer.count, &result)
    } else {
      rc = getpwuid_r(getuid(), &entry, &buffer, buffer.count, &result)
    }
    guard rc == 0, result != nil, let directory = entry.pw_dir else { return nil }
    let home = String(cString: directory)
    return home.isEmpty ? nil : home
  }
}
