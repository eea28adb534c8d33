import Foundation
import Testing

@testable import Testbed

#if canImport(Glibc)
  import Glibc
#endif

/// Whether no process with that pid exists any more.
func isGone(_ pid: Int32) -> Bool { kill(pid, 0) != 0 && errno == ESRCH }

@Suite("Testbed start, login, files and stop")
struct TestbedTests {
  @Test func threeHostsLogInAndStopCleansUp() async throws {
    let testbed = try await Testbed.start(hosts: 3)
    #expect(testbed.hosts.map(\.address) == ["127.0.0.2", "127.0.0.3", "127.0.0.4"])
    #expect(testbed.sshdPids.count == 1)
    #expect(getsid(testbed.sshdPids[0]) == testbed.sshdPids[0])
    try await withThrowingTaskGroup(of: ToolResult.self) { group in
      for host in testbed.hosts {
        group.addTask {
          try await ssh(config: testbed.sshConfigPath, host.address, "hostname; id -un; echo $0")
        }
      }
      for try await result in group {
        #expect(result.status == 0, "\(result.stderr)\n\(testbed.logs())")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines.dropFirst().first == testbed.username)
      }
    }
    if TestbedUser.runningAsRoot {
      #expect(testbed.username == TestbedUser.dedicatedName)
      let user = try #require(TestbedUser.lookup(name: TestbedUser.dedicatedName))
      #expect(user.shell == "/bin/sh")
      #expect(user.home == "/home/\(TestbedUser.dedicatedName)")
      #expect(TestbedUser.passwordField(of: user.name)?.hasPrefix("!") == false)
    } else {
      #expect(testbed.user.uid == getuid())
    }

    let pids = testbed.sshdPids
    let directory = testbed.directory
    await testbed.stop()
    #expect(pids.allSatisfy(isGone))
    #expect(!FileManager.default.fileExists(atPath: directory))
    #expect(testbed.sshdPids.isEmpty)
    #expect(
      LoopbackSocket.connect(
        address: "127.0.0.2", port: testbed.port, timeout: .seconds(1)
      ).isFailure)
    await testbed.stop()  // idempotent
  }

  @Test func twentyHostsOnTwoSshdWithClientFiles() async throws {
    let testbed = try await Testbed.start(hosts: 20)
    defer { testbed.stopSynchronously() }
    #expect(testbed.sshdPids.count == 2)
    #expect(testbed.hosts.last?.address == "127.0.0.21")
    #expect(testbed.hosts.filter { $0.sshdIndex == 1 }.count == 4)
    for address in ["127.0.0.2", "127.0.0.17", "127.0.0.18", "127.0.0.21"] {
      let result = try await ssh(config: testbed.sshConfigPath, address, "true")
      #expect(result.status == 0, "\(address): \(result.stderr)")
    }
    let port = testbed.port

    let targets = try String(contentsOfFile: testbed.hostsFilePath, encoding: .utf8)
    #expect(targets.split(separator: "\n").count == 20)
    #expect(targets.hasPrefix("\(testbed.username)@127.0.0.2:\(port)\n"))

    let knownHosts = try String(contentsOfFile: testbed.knownHostsPath, encoding: .utf8)
    let lines = knownHosts.split(separator: "\n")
    #expect(lines.count == 20)
    #expect(lines.first == "[127.0.0.2]:\(port) \(testbed.hostPublicKey)")
    #expect(testbed.hostPublicKey.hasPrefix("ssh-ed25519 AAAA"))

    let inventory = try String(contentsOfFile: testbed.inventoryPath, encoding: .utf8)
    #expect(inventory.contains("  vars:\n    ansible_user: \(testbed.username)\n"))
    #expect(inventory.contains("    ansible_port: \(port)\n"))
    #expect(inventory.contains("    ansible_ssh_private_key_file: \(testbed.userKeyPath)\n"))
    #expect(inventory.contains("  hosts:\n    127.0.0.2:\n"))
    #expect(inventory.contains("    testbed:\n      hosts:\n        127.0.0.2:\n"))
    #expect(inventory.contains("    sshd1:\n      hosts:\n        127.0.0.18:\n"))
    #expect(inventory.components(separatedBy: "\n").filter { $0 == "    127.0.0.21:" }.count == 1)

    let config = try String(contentsOfFile: testbed.sshConfigPath, encoding: .utf8)
    #expect(config.contains("Port \(port)"))
    #expect(config.contains("StrictHostKeyChecking yes"))
    #expect(config.contains("UserKnownHostsFile \(testbed.knownHostsPath)"))

    let description = try TestbedDescription.load(directory: testbed.directory)
    #expect(description.port == port)
    #expect(description.hosts == testbed.hosts)
    #expect(description.sshd.map(\.pid) == testbed.sshdPids)
    #expect(description.user == testbed.username)

    let sshdConfig = try String(contentsOfFile: description.sshd[0].configPath, encoding: .utf8)
    #expect(sshdConfig.components(separatedBy: "ListenAddress").count == 17)
    #expect(sshdConfig.contains("MaxStartups 2000:30:4000"))
    #expect(!sshdConfig.contains("\nMaxSessions"))
  }

  @Test func hostAddressesContinueOnNextBlock() {
    #expect(TestbedHost.address(index: 0) == "127.0.0.2")
    #expect(TestbedHost.address(index: 253) == "127.0.0.255")
    #expect(TestbedHost.address(index: 254) == "127.0.1.0")
    #expect(TestbedHost.address(index: 999) == "127.0.3.233")
  }

  @Test func encryptedKeyIsTheUserKeyWithAPassphrase() async throws {
    let testbed = try await Testbed.shared()
    let plain = try await RunningTool(
      "/usr/bin/ssh-keygen", ["-y", "-f", testbed.userKeyPath]
    ).result()
    let decrypted = try await RunningTool(
      "/usr/bin/ssh-keygen", ["-y", "-P", testbed.keyPassphrase, "-f", testbed.encryptedKeyPath]
    ).result()
    let locked = try await RunningTool(
      "/usr/bin/ssh-keygen", ["-y", "-P", "", "-f", testbed.encryptedKeyPath]
    ).result()
    #expect(plain.status == 0 && decrypted.status == 0)
    #expect(locked.status != 0)
    let authorized = try String(contentsOfFile: testbed.authorizedKeysPath, encoding: .utf8)
    #expect(try Testbed.keyLine(decrypted.stdout) == Testbed.keyLine(authorized))
  }

  @Test func persistentUpStatusDown() async throws {
    let directory = "/tmp/apssh-testbed-persistent-test-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let testbed = try await TestbedControl.up(hosts: 2, directory: directory)
    // A persistent testbed has no watchdog: stop it whatever happens below.
    do {
      try await checkPersistent(testbed, directory: directory)
    } catch {
      _ = try? await TestbedControl.down(directory: directory)
      throw error
    }
  }

  @Test func unsafeDirectoryIsRefused() async throws {
    let directory = "/tmp/apssh-testbed-unsafe-test-\(UUID().uuidString.prefix(8))"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
    chmod(directory, 0o770)
    await #expect {
      _ = try await Testbed.start(hosts: 1, directory: directory)
    } throws: { error in
      guard case TestbedError.unsafeDirectory(let message) = error else { return false }
      return message.contains("writable by its group or by others (mode 770)")
    }
    if geteuid() == 0, let nobody = getpwnam("nobody") {
      chmod(directory, 0o755)
      chown(directory, nobody.pointee.pw_uid, nobody.pointee.pw_gid)
      await #expect {
        _ = try await Testbed.start(hosts: 1, directory: directory)
      } throws: { error in
        guard case TestbedError.unsafeDirectory(let message) = error else { return false }
        return message.contains("belongs to nobody")
      }
    }
    #expect(!FileManager.default.fileExists(atPath: directory + "/authorized_keys"))
    // A directory of one's own, private, is used (and a new one made with 755 whatever the umask).
    chown(directory, geteuid(), getegid())
    chmod(directory, 0o700)
    let testbed = try await Testbed.start(hosts: 1, directory: directory)
    await testbed.stop()
  }

  private func checkPersistent(_ testbed: Testbed, directory: String) async throws {
    #expect(testbed.persistent && !testbed.ownsDirectory)
    let status = try TestbedControl.status(directory: directory)
    #expect(status.isRunning && status.alive.count == 1)
    await #expect(throws: TestbedError.self) {
      _ = try await TestbedControl.up(hosts: 2, directory: directory)
    }
    let result = try await ssh(config: testbed.sshConfigPath, "127.0.0.3", "true")
    #expect(result.status == 0, "\(result.stderr)")
    let after = try await TestbedControl.down(directory: directory)
    #expect(after.alive.isEmpty)
    #expect(testbed.sshdPids.allSatisfy(isGone))
    #expect(try TestbedControl.status(directory: directory).isRunning == false)
  }
}

extension Result {
  var isFailure: Bool {
    if case .failure = self { return true }
    return false
  }
}
