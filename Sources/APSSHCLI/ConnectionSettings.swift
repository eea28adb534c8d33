import Foundation
import Inventory
import SshJobs

extension ConnectionOptions {
  /// The options, checked: contradictions and out-of-range values are usage errors.
  func check() throws(CLIError) {
    if strictHostKeys && noHostKeyCheck {
      throw CLIError("--strict-host-keys and --no-host-key-check contradict each other")
    }
    guard retries >= 1 else { throw CLIError("--retries must be at least 1 (connection attempts)") }
    guard window >= 0 else { throw CLIError("--window must be 0 (no limit) or more") }
    guard connectTimeout > 0, connectTimeout <= 86_400 else {
      throw CLIError("--connect-timeout must be a positive number of seconds, at most 86400")
    }
    _ = try parsedCommandTimeout()
  }

  /// `--command-timeout` as a duration.
  func parsedCommandTimeout() throws(CLIError) -> Duration? {
    guard let commandTimeout else { return nil }
    do {
      return try DurationParser.parseTimeLimit(commandTimeout)
    } catch {
      throw CLIError("--command-timeout: \(error)")
    }
  }

  /// The run settings these options give (see `NodeFactory` for how they combine with each node).
  func runSettings(login: String?) throws(CLIError) -> RunSettings {
    try check()
    return RunSettings(
      keys: keys, defaultUser: login ?? SshConfiguration.localUsername,
      hostKeyPolicy: noHostKeyCheck ? .off : strictHostKeys ? .strict : .acceptNew,
      knownHostsPath: knownHostsPath,
      connectTimeout: .milliseconds(Int64(connectTimeout * 1000)), connectionAttempts: retries, retryDelay: .seconds(1),
      commandTimeout: try parsedCommandTimeout(), window: window == 0 ? nil : window)
  }

  /// `--known-hosts`, else `$APSSH_KNOWN_HOSTS`; nil for the default file.
  var knownHostsPath: String? {
    if let knownHosts { return knownHosts }
    guard let variable = ProcessInfo.processInfo.environment["APSSH_KNOWN_HOSTS"], !variable.isEmpty else { return nil }
    return variable
  }

  /// Checks, before anything connects, the files a run reads: the known_hosts file (never a
  /// directory; a path given must be in an existing directory: none is made for it), and unless
  /// `-K`, every key file the run names (`-k`, and the nodes' own keys from inventories and
  /// scenarios), each once (see `RunSettings.checkKeyFiles`). With `requireKey`, some key must be
  /// usable (reference §2.2 step 3): the `-k` files, or else the agent, a key of every node, or a
  /// default key file.
  /// - Throws: `CLIError` (exit 2) naming the file and what is wrong.
  func checkFiles(nodes: [NodeSpec], settings: RunSettings, requireKey: Bool) async throws(CLIError) {
    try checkKnownHosts()
    if okIfNoKey { return }
    let problems = await settings.checkKeyFiles(nodes: nodes)
    if problems.count == 1 { throw CLIError(problems[0].description) }
    if !problems.isEmpty {
      throw CLIError(
        "\(problems.count) unusable key files (-K to proceed anyway):\n"
          + problems.map { "  " + $0.description }.joined(separator: "\n"))
    }
    guard requireKey, keys.isEmpty else { return }
    if !(ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"] ?? "").isEmpty { return }
    if SshConfiguration.defaultKeyPaths.contains(where: FileManager.default.isReadableFile(atPath:)) { return }
    let remote = nodes.filter { $0.kind == .ssh }
    if !remote.isEmpty, remote.allSatisfy({ !$0.keys.isEmpty }) { return }
    throw CLIError(
      "could not find any usable key - exiting (no -k, no ssh-agent, no ~/.ssh/id_* key; -K to proceed anyway)")
  }

  /// The known_hosts file given (`--known-hosts`, `$APSSH_KNOWN_HOSTS`) or the default one: not a
  /// directory, and a given one in an existing directory.
  func checkKnownHosts() throws(CLIError) {
    guard let path = knownHostsPath else {
      let path = SshConfiguration.defaultKnownHostsPath
      // ~/.ssh is made when the first host is recorded, as OpenSSH does; a directory in the way is not.
      if let problem = KnownHostsFile.problem(at: path), problem.hasPrefix("is a directory") {
        throw CLIError("known_hosts file \(path): \(problem)")
      }
      return
    }
    if let problem = KnownHostsFile.problem(at: path) {
      let option = knownHosts != nil ? "--known-hosts " : "APSSH_KNOWN_HOSTS="
      throw CLIError("\(option)\(path): \(problem)")
    }
  }
}
