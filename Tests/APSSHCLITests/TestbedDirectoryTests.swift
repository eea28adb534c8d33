import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `aptestbed up` refuses a directory where someone else could replace `authorized_keys`.
@Suite struct TestbedDirectoryTests {
  /// A new directory under /tmp, made by `prepare`; removed at the end.
  private func withDirectory(_ prepare: (String) throws -> Void, _ body: (String) async throws -> Void) async throws {
    let directory = "/tmp/apssh-tb-unsafe-\(UUID().uuidString.prefix(8))"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
    try prepare(directory)
    try await body(directory)
  }

  /// Runs `aptestbed up 1 --dir DIR`, stopping a testbed that should not have started.
  private func up(_ directory: String) async throws -> CLIResult {
    let result = try await ChildProcess.run("aptestbed", ["up", "1", "--dir", directory])
    if result.code == 0 { _ = try? await ChildProcess.run("aptestbed", ["down", "--dir", directory]) }
    return result
  }

  @Test(.enabled(if: geteuid() == 0, "needs root to give a directory to another user"))
  func directoryOfAnotherUserIsRefused() async throws {
    try await withDirectory({ directory in
      let nobody = try #require(getpwnam("nobody")).pointee
      #expect(chown(directory, nobody.pw_uid, nobody.pw_gid) == 0)
    }) { directory in
      let result = try await up(directory)
      #expect(result.code == 2, "\(result.stdout)\(result.stderr)")
      #expect(
        result.stderr.hasPrefix(
          "aptestbed: \(directory) belongs to nobody (uid \(getpwnam("nobody").pointee.pw_uid)), not to root (uid 0):"
            + " its owner could replace authorized_keys there"), "\(result.stderr)")
      #expect(!FileManager.default.fileExists(atPath: directory + "/authorized_keys"), "nothing was written")
    }
  }

  @Test(arguments: [0o775, 0o757, 0o777] as [mode_t])
  func directoryWritableByOthersIsRefused(_ mode: mode_t) async throws {
    try await withDirectory({ #expect(chmod($0, mode) == 0) }) { directory in
      let result = try await up(directory)
      #expect(result.code == 2, "\(result.stdout)\(result.stderr)")
      #expect(
        result.stderr.contains(
          "\(directory) is writable by its group or by others (mode \(String(mode, radix: 8))): they could replace"
            + " authorized_keys there"), "\(result.stderr)")
      #expect(result.stderr.contains("chmod go-w \(directory)"))
      #expect(!FileManager.default.fileExists(atPath: directory + "/authorized_keys"))
    }
  }

  @Test(.enabled(if: geteuid() == 0, "needs root to give a directory to another user"))
  func symbolicLinkToADirectoryOfAnotherUserIsRefused() async throws {
    try await withDirectory({ directory in
      try FileManager.default.createDirectory(atPath: directory + "/real", withIntermediateDirectories: false)
      let nobody = try #require(getpwnam("nobody")).pointee
      #expect(chown(directory + "/real", nobody.pw_uid, nobody.pw_gid) == 0)
      try FileManager.default.createSymbolicLink(atPath: directory + "/link", withDestinationPath: directory + "/real")
    }) { directory in
      let result = try await up(directory + "/link")
      #expect(result.code == 2, "\(result.stdout)\(result.stderr)")
      #expect(result.stderr.contains("\(directory)/real belongs to nobody"), "\(result.stderr)")
    }
  }
}
