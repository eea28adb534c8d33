import Foundation

/// What `DIR/testbed.json` records about a testbed, so that other processes (`aptestbed down`,
/// `aptestbed status`, benchmarks) can find its hosts and files and stop its sshd processes.
public struct TestbedDescription: Codable, Sendable, Equatable {
  /// One sshd process of the testbed.
  public struct Sshd: Codable, Sendable, Equatable {
    /// Process id (also its process group and session id).
    public var pid: Int32
    /// Its configuration file.
    public var configPath: String
    /// Its log file (`sshd -E`).
    public var logPath: String
    /// The addresses it listens on.
    public var addresses: [String]
    /// Why it was started: `hosts` (the testbed's hosts), `changed-key` or `killable` (faults).
    public var role: String

    /// Creates a record.
    public init(pid: Int32, configPath: String, logPath: String, addresses: [String], role: String) {
      self.pid = pid
      self.configPath = configPath
      self.logPath = logPath
      self.addresses = addresses
      self.role = role
    }
  }

  /// The testbed directory.
  public var directory: String
  /// The TCP port of every host.
  public var port: UInt16
  /// The login name on every host.
  public var user: String
  /// The hosts, in address order.
  public var hosts: [TestbedHost]
  /// The unencrypted private user key.
  public var userKeyPath: String
  /// The same key encrypted with `keyPassphrase`.
  public var encryptedKeyPath: String
  /// The passphrase of `encryptedKeyPath`.
  public var keyPassphrase: String
  /// known_hosts with the host key of every host.
  public var knownHostsPath: String
  /// The OpenSSH client configuration for the hosts.
  public var sshConfigPath: String
  /// The Ansible-style inventory.
  public var inventoryPath: String
  /// The plain target list (`user@address:port` per line).
  public var hostsFilePath: String
  /// Every sshd process started for the testbed.
  public var sshd: [Sshd]
  /// Whether the sshd processes outlive the process that started them.
  public var persistent: Bool
  /// Pid of the process that started the testbed.
  public var ownerPid: Int32

  /// The name of the description file in a testbed directory.
  public static let fileName = "testbed.json"

  /// Reads `DIR/testbed.json`.
  public static func load(directory: String) throws -> TestbedDescription {
    let path = (directory as NSString).appendingPathComponent(fileName)
    guard let data = FileManager.default.contents(atPath: path),
      let description = try? JSONDecoder().decode(TestbedDescription.self, from: data)
    else { throw TestbedError.noTestbed(directory: directory) }
    return description
  }

  /// Writes `DIR/testbed.json`.
  func save() throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(self)
    try FileIO.write(
      String(decoding: data, as: UTF8.self) + "\n",
      to: (directory as NSString).appendingPathComponent(Self.fileName))
  }
}
