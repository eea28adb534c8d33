/// A run described as plain data: which jobs run on which nodes, after what, with which commands
/// and limits. Every entry path builds one — ad-hoc `apssh`, `-s`, `appush`/`appull`, scenario
/// files, a program — and ``Runner`` runs it, so they all behave the same.
public struct RunSpec: Sendable {
  /// The name of the run (the tool, or the scenario file), for listings and graphs.
  public var label: String
  /// The jobs, in order (the order of listings, reports and ids).
  public var jobs: [JobSpec]
  /// At most this many jobs at once; nil for no limit (``RunSettings/window`` wins when set).
  public var window: Int?
  /// The time limit of the whole run.
  public var timeout: Duration?
  /// The values that commands capture while the run goes (`Capture`) and later commands use.
  public var variables: Variables

  /// Creates a run.
  public init(
    label: String, jobs: [JobSpec] = [], window: Int? = nil, timeout: Duration? = nil,
    variables: Variables = Variables()
  ) {
    self.label = label
    self.jobs = jobs
    self.window = window
    self.timeout = timeout
    self.variables = variables
  }
}

/// One job of a ``RunSpec``: commands run in order on one node.
public struct JobSpec: Sendable {
  /// What other jobs' ``requires`` name; the jobs a scenario line makes for each host of a group
  /// share it, and requiring it requires them all.
  public var name: String
  /// The label of listings and reports (default: the first command's).
  public var label: String?
  /// Where the commands run.
  public var node: NodeSpec
  /// The commands, in order.
  public var commands: [any Command]
  /// The names of the jobs this one waits for.
  public var requires: [String]
  /// Whether a failure stops the whole run (the other jobs are cancelled).
  public var critical: Bool
  /// A job that runs until the others are done (a monitor), then is stopped.
  public var forever: Bool
  /// The time limit of the whole job.
  public var timeout: Duration?
  /// When set, overrides the `verbose` flag of every command.
  public var verbose: Bool?
  /// Where the job was written (a scenario file and line), for messages.
  public var location: SourceLocation?

  /// Creates a job.
  public init(
    name: String, label: String? = nil, node: NodeSpec, commands: [any Command], requires: [String] = [],
    critical: Bool = true, forever: Bool = false, timeout: Duration? = nil, verbose: Bool? = nil,
    location: SourceLocation? = nil
  ) {
    self.name = name
    self.label = label
    self.node = node
    self.commands = commands
    self.requires = requires
    self.critical = critical
    self.forever = forever
    self.timeout = timeout
    self.verbose = verbose
    self.location = location
  }
}

/// A place in an input file.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
  /// The file, if any.
  public var file: String?
  /// The line, from 1, if known.
  public var line: Int?

  /// Creates a location.
  public init(file: String?, line: Int?) {
    self.file = file
    self.line = line
  }

  /// `file:line`, `file`, `line N`, or empty.
  public var description: String {
    switch (file, line) {
    case (let file?, let line?): return "\(file):\(line)"
    case (let file?, nil): return file
    case (nil, let line?): return "line \(line)"
    case (nil, nil): return ""
    }
  }
}

/// Where a job runs, as the user described it — a target, an inventory host, a scenario node —
/// before the command line's settings and the defaults are applied by ``NodeFactory``.
public struct NodeSpec: Sendable, Hashable, CustomStringConvertible {
  /// A remote host or the local one.
  public enum Kind: Sendable, Hashable {
    /// A host reached over SSH.
    case ssh
    /// The local host (`LocalNode`).
    case local
  }

  /// Remote or local.
  public var kind: Kind
  /// The host name or address to connect to.
  public var hostname: String
  /// The remote user, when the input says (else `-l`, else the local user).
  public var user: String?
  /// The port, when the input says (else 22).
  public var port: Int?
  /// The node's own key files (an inventory's or a scenario's `key`), tried after `-k`'s.
  public var keys: [String]
  /// A formatter name given by the input (a scenario node's `formatter:`), if any.
  public var formatter: String?
  /// Whether the node reports its connection events (a scenario node's `verbose:`), if said.
  public var verbose: Bool?
  /// How the input names the node (`user@host:port`, a scenario node id…), for reports.
  public var name: String
  private var gatewayBox: Box?

  /// The node through which this one is reached (a jump host), if any.
  public var gateway: NodeSpec? {
    get { gatewayBox?.spec }
    set { gatewayBox = newValue.map(Box.init) }
  }

  /// A remote host.
  public static func ssh(
    _ hostname: String, user: String? = nil, port: Int? = nil, keys: [String] = [], gateway: NodeSpec? = nil,
    name: String? = nil
  ) -> NodeSpec {
    var spec = NodeSpec(kind: .ssh, hostname: hostname, user: user, port: port, keys: keys, name: name ?? hostname)
    spec.gateway = gateway
    return spec
  }

  /// The local host.
  public static let local = NodeSpec(
    kind: .local, hostname: "LOCALNODE", user: nil, port: nil, keys: [], name: "LOCALNODE")

  private init(kind: Kind, hostname: String, user: String?, port: Int?, keys: [String], name: String) {
    self.kind = kind
    self.hostname = hostname
    self.user = user
    self.port = port
    self.keys = keys
    self.name = name
  }

  /// `[gw->][user@]host[:port]`, or `LOCALNODE`.
  public var description: String {
    guard kind == .ssh else { return hostname }
    let here = (user.map { $0 + "@" } ?? "") + hostname + (port.map { ":\($0)" } ?? "")
    return (gateway.map { $0.description + "->" } ?? "") + here
  }

  /// Holds the gateway: a struct cannot hold its own type directly.
  private final class Box: Sendable, Hashable {
    let spec: NodeSpec
    init(_ spec: NodeSpec) { self.spec = spec }
    static func == (lhs: Box, rhs: Box) -> Bool { lhs.spec == rhs.spec }
    func hash(into hasher: inout Hasher) { hasher.combine(spec) }
  }
}
