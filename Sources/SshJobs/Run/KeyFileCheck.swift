import Foundation

/// A key file a run names that cannot be used: which file, who names it, what is wrong.
public struct KeyFileError: Error, Sendable, Equatable, CustomStringConvertible {
  /// Who names the file.
  public enum Origin: Sendable, Equatable {
    /// `-k` (``RunSettings/keys``): every node uses it.
    case settings
    /// The own key of these nodes (an inventory's or a scenario's `key`), as they are written.
    case nodes([String])
  }

  /// The file, `~` expanded.
  public var path: String
  /// Who names it.
  public var origin: Origin
  /// What is wrong with it.
  public var problem: KeyFileProblem

  /// Creates an error.
  public init(path: String, origin: Origin, problem: KeyFileProblem) {
    self.path = path
    self.origin = origin
    self.problem = problem
  }

  /// `-k /etc/passwd: not an OpenSSH/PEM private key`, or
  /// `key /keys/missing (of 127.0.0.2, 127.0.0.3): no such file`.
  public var description: String {
    switch origin {
    case .settings:
      return "-k \(path): \(problem)"
    case .nodes(let names):
      let shown = names.prefix(3).joined(separator: ", ") + (names.count > 3 ? " and \(names.count - 3) more" : "")
      return "key \(path) (of \(shown)): \(problem)"
    }
  }
}

extension RunSettings {
  /// Checks, once each and before anything connects, every key file a run of `nodes` names: the
  /// `-k` files of these settings and the nodes' own keys (gateways' included). A file that does not
  /// exist, cannot be read, is a directory, a public key or no private key at all is an error; so
  /// is an encrypted key without a passphrase, unless the ssh-agent is tried first (it may hold
  /// it: nodes' own keys without `-k`). Key files tried by default (`~/.ssh/id_*`) are not checked
  /// here: a missing or unusable one is skipped when connecting.
  /// - Parameters:
  ///   - passphraseAvailable: whether a passphrase is given for encrypted keys
  ///     (`APSSH_KEY_PASSPHRASE` by default).
  ///   - agentAvailable: whether an ssh-agent can be asked (`SSH_AUTH_SOCK` by default).
  /// - Returns: the problems, one per file, in the order the files are named.
  public func checkKeyFiles(
    nodes: [NodeSpec],
    passphraseAvailable: Bool = ProcessInfo.processInfo.environment["APSSH_KEY_PASSPHRASE"] != nil,
    agentAvailable: Bool = !(ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"] ?? "").isEmpty
  ) async -> [KeyFileError] {
    var order: [String] = []
    var fromSettings: Set<String> = []
    var users: [String: [String]] = [:]
    for key in keys {
      let path = HomeDirectory.expandingTilde(in: key)
      if fromSettings.insert(path).inserted { order.append(path) }
    }
    var seen: Set<NodeSpec> = []
    func visit(_ node: NodeSpec) {
      guard node.kind == .ssh, seen.insert(node).inserted else { return }
      if let gateway = node.gateway { visit(gateway) }
      for key in node.keys {
        let path = HomeDirectory.expandingTilde(in: key)
        if fromSettings.contains(path) { continue }
        if users[path] == nil { order.append(path) }
        if users[path]?.contains(node.description) != true { users[path, default: []].append(node.description) }
      }
    }
    for node in nodes { visit(node) }
    // The agent is tried first only without -k (NodeFactory's rule).
    let agentFirst = keys.isEmpty && agentAvailable
    var errors: [KeyFileError] = []
    for path in order {
      let fromK = fromSettings.contains(path)
      let problem = await KeyFile.check(path, passphraseAvailable: passphraseAvailable, agentMayHoldIt: agentFirst)
      if let problem {
        errors.append(KeyFileError(path: path, origin: fromK ? .settings : .nodes(users[path] ?? []), problem: problem))
      }
    }
    return errors
  }
}
