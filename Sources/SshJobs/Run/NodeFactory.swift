import SshClient

/// How to connect and how long to wait, as the command line (or a program) sets it for a whole
/// run: what ``NodeFactory`` applies on top of each ``NodeSpec``.
public struct RunSettings: Sendable {
  /// `-k`: key files tried first, before each node's own; when given, the ssh-agent is not used.
  public var keys: [String]
  /// The user of nodes whose spec names none (`-l`, else the local user).
  public var defaultUser: String
  /// How host keys are checked.
  public var hostKeyPolicy: HostKeyPolicy
  /// The known_hosts file; nil for `~/.ssh/known_hosts`.
  public var knownHostsPath: String?
  /// The limit of each connection attempt.
  public var connectTimeout: Duration
  /// Connection attempts per node (at least 1; `--retries`).
  public var connectionAttempts: Int
  /// The pause between connection attempts.
  public var retryDelay: Duration
  /// The limit of each command that has none of its own (`--command-timeout`).
  public var commandTimeout: Duration?
  /// At most this many jobs at once (`-w`); nil leaves the spec's window.
  public var window: Int?

  /// Creates settings; the defaults are those of `apssh` without options.
  public init(
    keys: [String] = [], defaultUser: String = SshConfiguration.localUsername,
    hostKeyPolicy: HostKeyPolicy = .acceptNew,
    knownHostsPath: String? = nil, connectTimeout: Duration = .seconds(30), connectionAttempts: Int = 1,
    retryDelay: Duration = .seconds(1), commandTimeout: Duration? = nil, window: Int? = nil
  ) {
    self.keys = keys
    self.defaultUser = defaultUser
    self.hostKeyPolicy = hostKeyPolicy
    self.knownHostsPath = knownHostsPath
    self.connectTimeout = connectTimeout
    self.connectionAttempts = max(1, connectionAttempts)
    self.retryDelay = retryDelay
    self.commandTimeout = commandTimeout
    self.window = window
  }
}

/// Turns node specs into nodes, one node object per distinct host (same address, port, user,
/// keys, gateway and output) for the whole run, so that every job on a host shares its connection;
/// gateways are shared the same way.
///
/// **Precedence** (one rule for every kind of run): the command line, then the input (inventory
/// host variables, scenario node keys, the target's `user@host:port`), then the defaults.
/// - user: the spec's, else ``RunSettings/defaultUser`` (`-l`, else the local user);
/// - port: the spec's, else 22;
/// - keys: `-k` files first, then the node's own (`key:` of an inventory or scenario), as
///   `ssh -i` adds to `IdentityFile`; with neither, `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`;
/// - ssh-agent: tried first unless `-k` is given (`-k` means "these keys");
/// - host keys, known_hosts, connect timeout, attempts: the settings.
public final class NodeFactory {
  /// The run's settings.
  public let settings: RunSettings
  private let formatter: (NodeSpec) -> any OutputFormatter
  private var nodes: [NodeSpec: any CommandNode] = [:]
  private var displayNames: [NodeSpec: String] = [:]

  /// Creates a factory; `formatter` gives the output formatter of a node (called once per node).
  /// - Parameter specs: the nodes the run will ask for: those that share a host name but differ
  ///   otherwise are shown as `host:port` (or `user@host`, or the whole chain) instead of `host`,
  ///   so that their output lines and files are told apart.
  public init(
    settings: RunSettings, specs: [NodeSpec] = [], formatter: @escaping (NodeSpec) -> any OutputFormatter
  ) {
    self.settings = settings
    self.formatter = formatter
    let resolved = Set(specs.filter { $0.kind == .ssh }.map(resolved))
    for (hostname, group) in Dictionary(grouping: resolved, by: \.hostname) where group.count > 1 {
      let ports = Set(group.map(\.port)).count > 1
      let users = Set(group.map(\.user)).count > 1
      for spec in group {
        var name = hostname
        if ports { name += ":\(spec.port ?? 22)" }
        if users { name = (spec.user ?? settings.defaultUser) + "@" + name }
        if !ports && !users { name = spec.description }
        displayNames[spec] = name
      }
    }
  }

  /// The node for `spec`: the same object for every spec that resolves to the same host.
  public func node(for spec: NodeSpec) -> any CommandNode {
    let key = resolved(spec)
    if let known = nodes[key] { return known }
    let made: any CommandNode
    switch key.kind {
    case .local:
      made = LocalNode(formatter: formatter(spec))
    case .ssh:
      let gateway = key.gateway.map { node(for: $0) as? SshNode } ?? nil
      made = SshNode(
        configuration: configuration(for: key), gateway: gateway, formatter: formatter(spec),
        displayName: displayNames[key])
    }
    nodes[key] = made
    return made
  }

  /// The connection configuration of `spec` after the precedence rule (see the type's
  /// documentation).
  public func configuration(for spec: NodeSpec) -> SshConfiguration {
    let spec = resolved(spec)
    var keys: [String] = []
    for key in settings.keys + spec.keys where !keys.contains(key) { keys.append(key) }
    return SshConfiguration(
      host: spec.hostname, port: spec.port ?? 22, username: spec.user ?? settings.defaultUser,
      keyPaths: keys.isEmpty ? nil : keys, useAgent: settings.keys.isEmpty, hostKeyPolicy: settings.hostKeyPolicy,
      knownHostsPath: settings.knownHostsPath, connectTimeout: settings.connectTimeout,
      connectionAttempts: settings.connectionAttempts, retryDelay: settings.retryDelay)
  }

  /// The spec with the defaults filled in (user, port) and without what does not make a
  /// different node (its name): the identity of a node in the run.
  private func resolved(_ spec: NodeSpec) -> NodeSpec {
    guard spec.kind == .ssh else {
      var local = NodeSpec.local
      local.formatter = spec.formatter
      local.verbose = spec.verbose
      return local
    }
    var result = NodeSpec.ssh(
      spec.hostname, user: spec.user ?? settings.defaultUser, port: spec.port ?? 22, keys: spec.keys,
      gateway: spec.gateway.map(resolved), name: "")
    result.formatter = spec.formatter
    result.verbose = spec.verbose
    return result
  }
}
