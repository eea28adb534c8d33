import ArgumentParser

/// How to connect: keys, timeouts, retries, host keys and the jobs window.
public struct ConnectionOptions: ParsableArguments, Sendable {
  /// Maximum number of hosts handled at once (0: no limit).
  @Option(
    name: [.customShort("w"), .customLong("window")], help: "Maximum number of hosts handled at once (0: no limit).")
  public var window: Int = 0

  /// The connection timeout in seconds.
  @Option(name: [.customShort("c"), .customLong("connect-timeout")], help: "Connection timeout, in seconds.")
  public var connectTimeout: Double = 30

  /// Private key files; when given the ssh-agent is not used.
  @Option(
    name: [.customShort("k"), .customLong("key")],
    help: ArgumentHelp("A private key file; when given, the agent is not used (repeatable).", valueName: "FILE"))
  public var keys: [String] = []

  /// Proceed even when no key can be found, without checking key files first.
  @Flag(
    name: [.customShort("K"), .customLong("ok-if-no-key")],
    help: "Proceed even when no usable key is found (key files are not checked before connecting).")
  public var okIfNoKey = false

  /// Connection attempts per host.
  @Option(name: .customLong("retries"), help: "Connection attempts per host.")
  public var retries: Int = 1

  /// Limit of each remote command (or transfer).
  @Option(
    name: .customLong("command-timeout"),
    help: ArgumentHelp("Time limit of the command on each host (30s, 2m, 1h30m…).", valueName: "DURATION"))
  public var commandTimeout: String?

  /// Only hosts already in known_hosts are accepted.
  @Flag(
    name: .customLong("strict-host-keys"), help: "Refuse hosts that are not in known_hosts (default: accept new ones).")
  public var strictHostKeys = false

  /// No host key checking at all.
  @Flag(name: .customLong("no-host-key-check"), help: "Do not check host keys at all (throwaway hosts only).")
  public var noHostKeyCheck = false

  /// The known_hosts file.
  @Option(
    name: .customLong("known-hosts"),
    help: ArgumentHelp(
      "The known_hosts file (default: $APSSH_KNOWN_HOSTS, else ~/.ssh/known_hosts).", valueName: "FILE"))
  public var knownHosts: String?

  /// Creates default options.
  public init() {}

  /// Refuses contradictory or out-of-range values (a usage error, exit 2).
  public func validate() throws {
    do {
      try check()
    } catch {
      throw ValidationError(error.message)
    }
  }
}
