import Foundation
import Testing

@testable import Testbed

#if canImport(Glibc)
  import Glibc
#endif

@Suite("Testbed watchdog")
struct WatchdogTests {
  /// When the owner's end of the watchdog socket closes (as when the test process dies), the
  /// watchdog kills the watched process group and removes the directory.
  @Test func ownerDeathKillsTheWatchedProcess() async throws {
    let directory = "/tmp/apssh-testbed-watchdog-test-\(getpid())"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let watched = try Subprocess.spawn("/bin/sleep", ["30"], newSession: true)
    let (watchdog, fd) = try Testbed.startWatchdog(sshd: watched, removing: directory)
    close(fd)  // the owner "dies"
    #expect(await Subprocess.wait(watched, timeout: .seconds(30)) != nil)
    #expect(await Subprocess.wait(watchdog, timeout: .seconds(30)) != nil)
    #expect(!FileManager.default.fileExists(atPath: directory))
  }

  /// A line on the socket disarms the watchdog: it exits and leaves the process alone.
  @Test func stopDisarmsTheWatchdog() async throws {
    let watched = try Subprocess.spawn("/bin/sleep", ["30"], newSession: true)
    let (watchdog, fd) = try Testbed.startWatchdog(sshd: watched, removing: nil)
    _ = "stop\n".withCString { write(fd, $0, 5) }
    close(fd)
    #expect(await Subprocess.wait(watchdog, timeout: .seconds(30)) != nil)
    #expect(Subprocess.reapIfExited(watched) == nil)
    kill(watched, SIGKILL)
    _ = await Subprocess.wait(watched, timeout: .seconds(2))
  }
}
