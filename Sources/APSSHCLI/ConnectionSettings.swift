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
      knownHostsPath: knownHosts ?? ProcessInfo.processInfo.environment["APSSH_KNOWN_HOSTS"],
      connectTimeout: .milliseconds(Int64(connectTimeout * 1000)), connectionAttempts: retries, retryDelay: .seconds(1),
      commandTimeout: try parsedCommandTimeout(), window: window == 0 ? nil : window)
  }

  /// Checks that some key can be used (reference §2.2 step 3, done after `-n`/`-L` here): the `-k`
  /// files, or else the agent, a key of the inventory, or a default key file.
  /// - Throws: `CLIError` unless `-K`.
  func checkKeys(targets: [Target]) throws(CLIError) {
    if okIfNoKey { return }
    let readable = { (path: String) in
      FileManager.default.isReadableFile(atPath: (path as NSString).expandingTildeInPath)
    }
    if !keys.isEmpty {
      let missing = keys.filter { !readable($0) }
      if missing.count == keys.count {
        throw CLIError(
          "could not find any usable key - exiting (cannot read \(missing.joined(separator: ", ")); -K to proceed anyway)"
        )
      }
      return
    }
    if ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"] != nil { return }
    if SshConfiguration.defaultKeyPaths.contains(where: readable) { return }
    if !targets.isEmpty, targets.allSatisfy({ $0.keyPath.map(readable) ?? false }) { return }
    throw CLIError(
      "could not find any usable key - exiting (no -k, no ssh-agent, no ~/.ssh/id_* key; -K to proceed anyway)")
  }
}
