import Foundation
import Inventory
import SshJobs

/// The connection options, checked and converted: keys, host key policy, timeouts, retries.
struct ConnectionSettings: Sendable {
  /// `-k` files; nil means the agent, then the target's inventory key or the default keys.
  let keys: [String]?
  let hostKeyPolicy: HostKeyPolicy
  let knownHostsPath: String?
  let connectTimeout: Duration
  let commandTimeout: Duration?
  let attempts: Int
  let window: Int?

  /// - Throws: `CLIError` (exit 2) for contradictory or out-of-range values.
  init(_ options: ConnectionOptions) throws {
    if options.strictHostKeys && options.noHostKeyCheck {
      throw CLIError("--strict-host-keys and --no-host-key-check contradict each other")
    }
    guard options.retries >= 1 else { throw CLIError("--retries must be at least 1 (connection attempts)") }
    guard options.window >= 0 else { throw CLIError("--window must be 0 (no limit) or more") }
    guard options.connectTimeout > 0, options.connectTimeout <= 86_400 else {
      throw CLIError("--connect-timeout must be a positive number of seconds, at most 86400")
    }
    keys = options.keys.isEmpty ? nil : options.keys
    hostKeyPolicy = options.noHostKeyCheck ? .off : options.strictHostKeys ? .strict : .acceptNew
    knownHostsPath = options.knownHosts ?? ProcessInfo.processInfo.environment["APSSH_KNOWN_HOSTS"]
    connectTimeout = .milliseconds(Int64(options.connectTimeout * 1000))
    commandTimeout = try options.commandTimeout.map { text in
      do { return try DurationParser.parse(text) } catch { throw CLIError("--command-timeout: \(error)") }
    }
    attempts = options.retries
    window = options.window == 0 ? nil : options.window
  }

  /// Checks that some key can be used (reference §2.2 step 3, done after `-n`/`-L` here): the `-k`
  /// files, or else the agent, a key of the inventory, or a default key file.
  /// - Throws: `CLIError` unless `okIfNoKey`.
  func checkKeys(targets: [Target], okIfNoKey: Bool) throws {
    if okIfNoKey { return }
    let readable = { (path: String) in
      FileManager.default.isReadableFile(atPath: (path as NSString).expandingTildeInPath)
    }
    if let keys {
      let missing = keys.filter { !readable($0) }
      if missing.count == keys.count {
        throw CLIError("could not find any usable key - exiting (cannot read \(missing.joined(separator: ", ")); -K to proceed anyway)")
      }
      return
    }
    if ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"] != nil { return }
    if SshConfiguration.defaultKeyPaths.contains(where: readable) { return }
    if !targets.isEmpty, targets.allSatisfy({ $0.keyPath.map(readable) ?? false }) { return }
    throw CLIError("could not find any usable key - exiting (no -k, no ssh-agent, no ~/.ssh/id_* key; -K to proceed anyway)")
  }
}
