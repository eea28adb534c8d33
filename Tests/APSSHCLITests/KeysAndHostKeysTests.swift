import Foundation
import Testing

/// The environment of a child tool without the user's agent, known_hosts or passphrase settings.
private func cleanEnvironment(home: String) -> [String: String] {
  var environment = ProcessInfo.processInfo.environment
  for name in ["SSH_AUTH_SOCK", "APSSH_KNOWN_HOSTS", "APSSH_KEY_PASSPHRASE"] { environment[name] = nil }
  environment["HOME"] = home
  return environment
}

/// Key files checked before connecting, host keys recorded or changed, known_hosts paths, `$HOME`.
@Suite("Keys and host keys")
struct KeysAndHostKeysTests {
  @Test("a -k file that is no usable private key is named with what is wrong, exit 2, before connecting")
  func badKeyFiles() async throws {
    let fleet = try await Fleet.shared()
    let directory = temporaryDirectory()
    let empty = directory + "/empty_key"
    try write("", to: empty)
    // Nothing listens there: a connection attempt would end in exit 3, "connection refused".
    let refusing = try fleet.testbed.refusingEndpoint()
    let target = ["-t", "\(fleet.testbed.username)@\(refusing.address):\(refusing.port)"]
    let cases: [(key: String, message: String)] = [
      (fleet.testbed.userKeyPath + ".pub", "not a private key (it is a public key: use the file without .pub)"),
      ("/etc/passwd", "not an OpenSSH/PEM private key"),
      (directory, "is a directory"),
      (directory + "/missing", "no such file"),
      (empty, "not an OpenSSH/PEM private key (the file is empty)"),
      (fleet.testbed.encryptedKeyPath, "encrypted: set APSSH_KEY_PASSPHRASE"),
    ]
    for (key, message) in cases {
      let home = temporaryDirectory()
      let run = try await ChildProcess.run(
        "apssh", ["-k", key, "--known-hosts", fleet.testbed.knownHostsPath] + target + ["true"],
        environment: cleanEnvironment(home: home))
      #expect(run.code == 2, "\(key): \(run.stderr)")
      #expect(run.stderr == "apssh: -k \(key): \(message)\n", "\(run.stderr)")
    }
    // appush and appull check the same way.
    let push = await appush(
      ["-k", "/etc/passwd", "--known-hosts", fleet.testbed.knownHostsPath] + target + ["/etc/hostname", "@:x"])
    #expect(push.code == 2)
    #expect(push.stderr.contains("-k /etc/passwd: not an OpenSSH/PEM private key"), "\(push.stderr)")
    #expect(!push.stderr.contains("refused"))
  }

  @Test("with the passphrase given, the encrypted key is checked and used")
  func encryptedKeyWithPassphrase() async throws {
    let fleet = try await Fleet.shared()
    var environment = cleanEnvironment(home: temporaryDirectory())
    environment["APSSH_KEY_PASSPHRASE"] = fleet.testbed.keyPassphrase
    let run = try await ChildProcess.run(
      "apssh",
      ["-k", fleet.testbed.encryptedKeyPath, "--known-hosts", fleet.testbed.knownHostsPath, "-c", "60"]
        + fleet.targets([7]) + ["echo", "decrypted"], environment: environment)
    #expect(run.code == 0, "\(run.stderr)")
    #expect(run.stdout.contains("decrypted"))
  }

  @Test("an inventory's key file that does not exist is named with its hosts, not 'no -k'")
  func missingInventoryKey() async throws {
    let fleet = try await Fleet.shared()
    let directory = temporaryDirectory()
    let missing = directory + "/no_such_key"
    let inventory = directory + "/inventory.yaml"
    try write(
      "all:\n  vars:\n    ansible_user: \(fleet.testbed.username)\n    ansible_port: \(fleet.testbed.port)\n"
        + "    ansible_ssh_private_key_file: \(missing)\n  hosts:\n    \(fleet.address(8)):\n", to: inventory)
    let run = try await ChildProcess.run(
      "apssh", ["-I", inventory, "--known-hosts", fleet.testbed.knownHostsPath, "-t", fleet.address(8), "true"],
      environment: cleanEnvironment(home: directory))
    #expect(run.code == 2, "\(run.stderr)")
    #expect(run.stderr.contains("key \(missing) (of "), "\(run.stderr)")
    #expect(run.stderr.contains(fleet.address(8)) && run.stderr.contains("no such file"), "\(run.stderr)")
    #expect(!run.stderr.contains("no -k"))
    // A scenario node's key is checked the same way.
    let scenario = directory + "/scenario.yaml"
    try write(
      """
      nodes:
        - id: target
          hostname: \(fleet.address(8))
          username: \(fleet.testbed.username)
          port: \(fleet.testbed.port)
          key: \(directory)
      jobs:
        - id: work
          node: target
          commands:
            - type: Run
              command: "true"
      """, to: scenario)
    let scenarioRun = await apssh(["--known-hosts", fleet.testbed.knownHostsPath, "-S", scenario])
    #expect(scenarioRun.code == 2)
    #expect(scenarioRun.stderr.contains("key \(directory) (of "), "\(scenarioRun.stderr)")
    #expect(scenarioRun.stderr.contains("is a directory"))
  }

  @Test("accept-new with a fresh known_hosts says 'Permanently added' once per host, then never again")
  func acceptNewTellsOncePerHost() async throws {
    let fleet = try await Fleet.shared()
    let knownHosts = temporaryDirectory() + "/known_hosts"
    let base = ["-k", fleet.testbed.userKeyPath, "--known-hosts", knownHosts, "-c", "60"] + fleet.targets([9, 10, 11])
    let first = await apssh(base + ["true"])
    #expect(first.code == 0, "\(first.stderr)")
    let added = first.stderr.split(separator: "\n").filter { $0.contains("Permanently added") }
    let expected = [9, 10, 11].map {
      "Permanently added '[\(fleet.address($0))]:\(fleet.testbed.port)' (ED25519) to the list of known hosts."
    }
    #expect(added.map(String.init).sorted() == expected.sorted(), "\(first.stderr)")
    #expect(try String(contentsOfFile: knownHosts, encoding: .utf8).split(separator: "\n").count == 3)
    let again = await apssh(base + ["true"])
    #expect(again.code == 0)
    #expect(!again.stderr.contains("Permanently added"), "\(again.stderr)")
  }

  @Test("--no-host-key-check with a changed key warns loudly, once per host, and still connects")
  func changedKeyWarning() async throws {
    let fleet = try await Fleet.shared()
    let knownHosts = try await fleet.testbed.knownHostsWithWrongKey(for: fleet.testbed.hosts[12])
    let run = await apssh(
      ["-k", fleet.testbed.userKeyPath, "--known-hosts", knownHosts, "--no-host-key-check", "-c", "60"]
        + fleet.targets([12, 13]) + ["echo", "through"])
    #expect(run.code == 0, "\(run.stderr)")
    #expect(run.stdout.split(separator: "\n").filter { $0.hasSuffix("through") }.count == 2)
    let warnings = run.stderr.split(separator: "\n").filter { $0.contains("REMOTE HOST IDENTIFICATION HAS CHANGED") }
    #expect(warnings.count == 1, "\(run.stderr)")
    let name = "[\(fleet.address(12))]:\(fleet.testbed.port)"
    #expect(warnings.first?.hasPrefix("WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for \(name)") == true)
    #expect(warnings.first?.contains("\(knownHosts) line 13") == true)
    #expect(warnings.first?.contains("checking disabled by --no-host-key-check") == true)
    // Checked, the same file refuses the host.
    let checked = await apssh(
      ["-k", fleet.testbed.userKeyPath, "--known-hosts", knownHosts, "-c", "60"] + fleet.targets([12]) + ["true"])
    #expect(checked.code == 3)
    #expect(checked.stderr.contains("HOST KEY CHANGED"))
  }

  @Test("a --known-hosts in a directory that does not exist, or naming a directory, is refused (exit 2)")
  func knownHostsPaths() async throws {
    let fleet = try await Fleet.shared()
    let directory = temporaryDirectory()
    let typo = directory + "/typo/sub/known_hosts"
    let options = ["-k", fleet.testbed.userKeyPath, "-c", "60"] + fleet.targets([14]) + ["true"]
    let missing = await apssh(["--known-hosts", typo] + options)
    #expect(missing.code == 2)
    #expect(missing.stderr == "apssh: --known-hosts \(typo): no such directory: \(directory)/typo/sub\n")
    #expect(!FileManager.default.fileExists(atPath: directory + "/typo"), "no directory was made")
    let isDirectory = await apssh(["--known-hosts", directory] + options)
    #expect(isDirectory.code == 2)
    #expect(isDirectory.stderr == "apssh: --known-hosts \(directory): is a directory (give the path of a file)\n")
    #expect(!isDirectory.stderr.contains("NSCocoaErrorDomain"))
    var environment = cleanEnvironment(home: directory)
    environment["APSSH_KNOWN_HOSTS"] = typo
    let fromVariable = try await ChildProcess.run("apssh", options, environment: environment)
    #expect(fromVariable.code == 2)
    #expect(fromVariable.stderr.contains("APSSH_KNOWN_HOSTS=\(typo): no such directory"), "\(fromVariable.stderr)")
  }

  @Test("$HOME gives ~/.apssh/inventory.yaml, the default known_hosts (made with ~/.ssh) and default keys")
  func homeEverywhere() async throws {
    let fleet = try await Fleet.shared()
    let home = temporaryDirectory("apssh-home")
    try FileManager.default.createDirectory(atPath: home + "/.apssh", withIntermediateDirectories: true)
    try write(
      "all:\n  vars:\n    ansible_user: \(fleet.testbed.username)\n    ansible_port: \(fleet.testbed.port)\n"
        + "  children:\n    mine:\n      hosts:\n        \(fleet.address(15)):\n",
      to: home + "/.apssh/inventory.yaml")
    let environment = cleanEnvironment(home: home)
    let listed = try await ChildProcess.run("apssh", ["-L", "-t", "@mine"], environment: environment)
    #expect(listed.code == 0, "\(listed.stderr)")
    #expect(listed.stdout.contains(fleet.address(15)), "\(listed.stdout)")
    // No key given: the default key of $HOME/.ssh; no known_hosts given: $HOME/.ssh/known_hosts.
    try FileManager.default.createDirectory(atPath: home + "/.ssh", withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: fleet.testbed.userKeyPath, toPath: home + "/.ssh/id_ed25519")
    let run = try await ChildProcess.run(
      "apssh", ["-c", "60", "-t", "@mine", "echo", "home"], environment: environment)
    #expect(run.code == 0, "\(run.stderr)")
    #expect(run.stdout.contains("home"))
    #expect(run.stderr.contains("Permanently added '[\(fleet.address(15))]:\(fleet.testbed.port)' (ED25519)"))
    let recorded = try String(contentsOfFile: home + "/.ssh/known_hosts", encoding: .utf8)
    #expect(recorded.hasPrefix("[\(fleet.address(15))]:\(fleet.testbed.port) ssh-ed25519 "))
  }

  @Test("without ~/.ssh, the default known_hosts gets its directory, private, as OpenSSH does")
  func defaultKnownHostsDirectory() async throws {
    let fleet = try await Fleet.shared()
    let home = temporaryDirectory("apssh-home")
    let run = try await ChildProcess.run(
      "apssh", ["-k", fleet.testbed.userKeyPath, "-c", "60"] + fleet.targets([15]) + ["true"],
      environment: cleanEnvironment(home: home))
    #expect(run.code == 0, "\(run.stderr)")
    var info = stat()
    #expect(stat(home + "/.ssh", &info) == 0 && info.st_mode & 0o777 == 0o700)
    #expect(FileManager.default.fileExists(atPath: home + "/.ssh/known_hosts"))
  }
}
