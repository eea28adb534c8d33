/// The client-side files a testbed writes into its directory: the inventory, the target list,
/// known_hosts and an OpenSSH client configuration.
enum TestbedFiles {
  /// `inventory.yaml`, Ansible layout: `all.vars` (`ansible_user`, `ansible_port`,
  /// `ansible_ssh_private_key_file`), `all.hosts` (one key per address), and `all.children`
  /// with group `testbed` (every host) and one group per sshd process (`sshd0`, `sshd1`, …).
  static func inventory(hosts: [TestbedHost], user: String, port: UInt16, keyPath: String)
    -> String
  {
    var lines = [
      "# apssh-swift testbed: \(hosts.count) hosts on port \(port)",
      "all:",
      "  vars:",
      "    ansible_user: \(user)",
      "    ansible_port: \(port)",
      "    ansible_ssh_private_key_file: \(keyPath)",
      "  hosts:",
    ]
    lines += hosts.map { "    \($0.address):" }
    lines += ["  children:", "    testbed:", "      hosts:"]
    lines += hosts.map { "        \($0.address):" }
    let groups = Dictionary(grouping: hosts, by: \.sshdIndex)
    for index in groups.keys.sorted() {
      lines += ["    sshd\(index):", "      hosts:"]
      lines += groups[index]!.map { "        \($0.address):" }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// `hosts`: one `user@address:port` per line.
  static func targets(hosts: [TestbedHost], user: String) -> String {
    hosts.map { "\(user)@\($0.address):\($0.port)\n" }.joined()
  }

  /// One known_hosts line: `[address]:port ssh-ed25519 AAAA…`.
  static func knownHostsLine(address: String, port: UInt16, publicKey: String) -> String {
    "[\(address)]:\(port) \(publicKey)\n"
  }

  /// `ssh_config`: `Host 127.*` with the port, user, key, known_hosts and strict checking.
  static func sshConfig(user: String, port: UInt16, keyPath: String, knownHostsPath: String)
    -> String
  {
    """
    # apssh-swift testbed: ssh -F <this file> 127.0.0.2 hostname
    Host 127.*
      Port \(port)
      User \(user)
      IdentityFile \(keyPath)
      IdentitiesOnly yes
      UserKnownHostsFile \(knownHostsPath)
      GlobalKnownHostsFile /dev/null
      StrictHostKeyChecking yes
      BatchMode yes
      LogLevel ERROR

    """
  }
}
