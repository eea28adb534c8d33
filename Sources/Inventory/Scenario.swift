import Foundation

/// A scenario file as a plain model: nodes, jobs and their commands, with no dependency on the
/// scheduler or on SSH (the CLI turns it into jobs).
///
/// The format is apssh's YAML loader (reference §1.13) with extensions: nodes may be a mapping
/// `name: {hostname: ...}` as well as a list of `{id: name, ...}`, and have `port` and `key`; a
/// job may run on `@group` or a host range (one job per host, see `hostsByJob(resolver:)`), has
/// `forever`, `timeout`, and `label` can stand for `id`; `requires` is another spelling of
/// `required`; the scenario has `window` and `timeout`; `{{ name }}` is replaced with `--var`
/// values before parsing. Read one with `Scenario.load(path:variables:)`.
public struct Scenario: Sendable, Equatable {
  /// The file the scenario was read from, if any.
  public var path: String?
  /// The nodes, in file order.
  public var nodes: [Node]
  /// The jobs, in file order.
  public var jobs: [Job]
  /// The maximum number of jobs running at once (`window:`); `nil` or 0 means no limit.
  public var window: Int?
  /// The time limit of the whole scenario (`timeout:`).
  public var timeout: Duration?

  /// Creates a scenario.
  public init(
    path: String? = nil, nodes: [Node] = [], jobs: [Job] = [], window: Int? = nil,
    timeout: Duration? = nil
  ) {
    self.path = path
    self.nodes = nodes
    self.jobs = jobs
    self.window = window
    self.timeout = timeout
  }

  /// Reads and parses a scenario file, first replacing `{{ name }}` with `variables`.
  ///
  /// - Throws: `InventoryError` naming the file, line and key of the problem.
  public static func load(path: String, variables: [String: String] = [:]) throws -> Scenario {
    try parse(Inventory.readText(path: path), path: path, variables: variables)
  }

  /// Parses scenario text (see `load(path:variables:)`); `path` is used in errors.
  public static func parse(_ text: String, path: String? = nil, variables: [String: String] = [:])
    throws -> Scenario
  {
    let rendered = try ScenarioTemplate.render(text, variables: variables, file: path)
    return try ScenarioParser(file: path).parse(rendered)
  }

  /// The node of that id, if any.
  public func node(_ id: String) -> Node? { nodes.first { $0.id == id } }

  /// The job of that id, if any.
  public func job(_ id: String) -> Job? { jobs.first { $0.id == id } }

  /// The hosts of each job whose target is `@group` or a range, by job id, through `resolver`.
  public func hostsByJob(resolver: TargetResolver) throws -> [String: [Target]] {
    var result: [String: [Target]] = [:]
    for job in jobs {
      guard case let .hosts(spec) = job.target else { continue }
      do {
        result[job.id] = try resolver.resolve([spec])
      } catch let error as InventoryError {
        var located = error
        located.file = located.file ?? path
        located.line = located.line ?? job.line
        located.key = located.key ?? "node"
        throw located
      }
    }
    return result
  }

  /// A node: a host reached by SSH, or the local machine.
  public struct Node: Sendable, Equatable {
    /// Where a node runs its commands.
    public enum Kind: Sendable, Equatable {
      /// The local machine (`localnode: true`).
      case local
      /// A remote host.
      case ssh(SSH)
    }

    /// How to reach a remote node.
    public struct SSH: Sendable, Equatable {
      /// The host name or address (`hostname:`).
      public var hostname: String
      /// The user (`username:`); `nil` for the default.
      public var username: String?
      /// The port (`port:`); `nil` for 22.
      public var port: Int?
      /// A private key file (`key:`).
      public var key: String?
      /// The id of the node to hop through (`gateway:`).
      public var gateway: String?

      /// Creates the settings of a remote node.
      public init(
        hostname: String, username: String? = nil, port: Int? = nil, key: String? = nil,
        gateway: String? = nil
      ) {
        self.hostname = hostname
        self.username = username
        self.port = port
        self.key = key
        self.gateway = gateway
      }
    }

    /// The name jobs use in `node:`.
    public var id: String
    /// Local or remote.
    public var kind: Kind
    /// A formatter class name (`formatter:`), as in apssh.
    public var formatter: String?
    /// `verbose:` if given.
    public var verbose: Bool?
    /// The line of the node in the file.
    public var line: Int?

    /// Creates a node.
    public init(
      id: String, kind: Kind, formatter: String? = nil, verbose: Bool? = nil, line: Int? = nil
    ) {
      self.id = id
      self.kind = kind
      self.formatter = formatter
      self.verbose = verbose
      self.line = line
    }
  }

  /// What a job runs on.
  public enum JobTarget: Sendable, Equatable {
    /// A node of the scenario, by id.
    case node(String)
    /// `@group` or a host range: one job per host, resolved by the caller.
    case hosts(String)
  }

  /// A job: commands run in sequence on one node.
  public struct Job: Sendable, Equatable {
    /// The name other jobs use in `required:` (`id:`, else `label:`).
    public var id: String
    /// The label shown in listings (`label:`, stripped), if given.
    public var label: String?
    /// Where the commands run.
    public var target: JobTarget
    /// The commands, in order.
    public var commands: [Command]
    /// The ids of the jobs that must be done first.
    public var required: [String]
    /// `critical:` if given (the scheduler's default otherwise).
    public var critical: Bool?
    /// A job that runs until the others are done (`forever:`).
    public var forever: Bool
    /// The job's time limit (`timeout:`).
    public var timeout: Duration?
    /// `verbose:`.
    public var verbose: Bool
    /// The line of the job in the file.
    public var line: Int?

    /// Creates a job.
    public init(
      id: String, label: String? = nil, target: JobTarget, commands: [Command],
      required: [String] = [], critical: Bool? = nil, forever: Bool = false,
      timeout: Duration? = nil, verbose: Bool = false, line: Int? = nil
    ) {
      self.id = id
      self.label = label
      self.target = target
      self.commands = commands
      self.required = required
      self.critical = critical
      self.forever = forever
      self.timeout = timeout
      self.verbose = verbose
      self.line = line
    }
  }

  /// An exit that does not count as a failure: a status or a signal name (`TERM`).
  public enum AllowedExit: Sendable, Equatable, Hashable {
    /// An exit status.
    case status(Int)
    /// A signal name, without `SIG`.
    case signal(String)
  }

  /// What a `Run`, `RunScript` and `RunString` share.
  public struct RunOptions: Sendable, Equatable {
    /// Exits that are not failures (`allowed_exits:`); 0 always is.
    public var allowedExits: [AllowedExit] = []
    /// The variable to store the output in (`capture:`).
    public var capture: String?
    /// `x11:` forwarding.
    public var x11 = false
    /// `ignore_outputs:` (local nodes only).
    public var ignoreOutputs = false

    /// Creates options.
    public init(
      allowedExits: [AllowedExit] = [], capture: String? = nil, x11: Bool = false,
      ignoreOutputs: Bool = false
    ) {
      self.allowedExits = allowedExits
      self.capture = capture
      self.x11 = x11
      self.ignoreOutputs = ignoreOutputs
    }
  }

  /// One command of a job.
  public enum Command: Sendable, Equatable {
    /// Runs a remote command line.
    case run(Run)
    /// Copies a local script and runs it.
    case runScript(RunScript)
    /// Writes a script body remotely and runs it.
    case runString(RunString)
    /// Copies local files to the node (SFTP).
    case push(Push)
    /// Copies files from the node (SFTP).
    case pull(Pull)

    /// The command's `label:`, if given.
    public var label: String? {
      switch self {
      case let .run(c): return c.label
      case let .runScript(c): return c.label
      case let .runString(c): return c.label
      case let .push(c): return c.label
      case let .pull(c): return c.label
      }
    }
  }

  /// `type: Run` — `command:` (a line), or `argv:` (a list), plus `args:`.
  public struct Run: Sendable, Equatable {
    /// The command (first word or whole line).
    public var command: String
    /// More words, appended with spaces.
    public var args: [String]
    /// Exits, capture, x11.
    public var options: RunOptions
    /// `label:`.
    public var label: String?
    /// `verbose:`.
    public var verbose: Bool
    /// The remote command line: `command` and `args` joined with spaces (no quoting added).
    public var commandLine: String { ([command] + args).joined(separator: " ") }

    /// Creates a Run.
    public init(
      command: String, args: [String] = [], options: RunOptions = RunOptions(),
      label: String? = nil, verbose: Bool = false
    ) {
      self.command = command
      self.args = args
      self.options = options
      self.label = label
      self.verbose = verbose
    }
  }

  /// `type: RunScript` — `local_script:` (or `script:`), `args:`, `includes:`; or `command:`
  /// whose first word is the script.
  public struct RunScript: Sendable, Equatable {
    /// The local script path.
    public var script: String
    /// Its arguments.
    public var args: [String]
    /// Local files pushed next to it.
    public var includes: [String]
    /// Exits, capture, x11.
    public var options: RunOptions
    /// `label:`.
    public var label: String?
    /// `verbose:`.
    public var verbose: Bool

    /// Creates a RunScript.
    public init(
      script: String, args: [String] = [], includes: [String] = [],
      options: RunOptions = RunOptions(), label: String? = nil, verbose: Bool = false
    ) {
      self.script = script
      self.args = args
      self.includes = includes
      self.options = options
      self.label = label
      self.verbose = verbose
    }
  }

  /// `type: RunString` — `script_body:` (or `body:`), `args:`, `remote_name:`, `includes:`.
  public struct RunString: Sendable, Equatable {
    /// The script text.
    public var body: String
    /// Its arguments.
    public var args: [String]
    /// A readable base name for the remote copy.
    public var remoteName: String?
    /// Local files pushed next to it.
    public var includes: [String]
    /// Exits, capture, x11.
    public var options: RunOptions
    /// `label:`.
    public var label: String?
    /// `verbose:`.
    public var verbose: Bool

    /// Creates a RunString.
    public init(
      body: String, args: [String] = [], remoteName: String? = nil, includes: [String] = [],
      options: RunOptions = RunOptions(), label: String? = nil, verbose: Bool = false
    ) {
      self.body = body
      self.args = args
      self.remoteName = remoteName
      self.includes = includes
      self.options = options
      self.label = label
      self.verbose = verbose
    }
  }

  /// `type: Push` — `localpaths:` (or `local_paths:`) onto `remotepath:` (or `remote_path:`).
  public struct Push: Sendable, Equatable {
    /// Local files or directories.
    public var localPaths: [String]
    /// The remote destination.
    public var remotePath: String
    /// Copy directories recursively.
    public var recursive: Bool
    /// Keep modes and times.
    public var preserve: Bool
    /// `label:`.
    public var label: String?
    /// `verbose:`.
    public var verbose: Bool

    /// Creates a Push.
    public init(
      localPaths: [String], remotePath: String, recursive: Bool = false, preserve: Bool = false,
      label: String? = nil, verbose: Bool = false
    ) {
      self.localPaths = localPaths
      self.remotePath = remotePath
      self.recursive = recursive
      self.preserve = preserve
      self.label = label
      self.verbose = verbose
    }
  }

  /// `type: Pull` — `remotepaths:` (or `remote_paths:`) into `localpath:` (or `local_path:`).
  public struct Pull: Sendable, Equatable {
    /// Remote files or directories.
    public var remotePaths: [String]
    /// The local destination.
    public var localPath: String
    /// Copy directories recursively.
    public var recursive: Bool
    /// Keep modes and times.
    public var preserve: Bool
    /// `label:`.
    public var label: String?
    /// `verbose:`.
    public var verbose: Bool

    /// Creates a Pull.
    public init(
      remotePaths: [String], localPath: String, recursive: Bool = false, preserve: Bool = false,
      label: String? = nil, verbose: Bool = false
    ) {
      self.remotePaths = remotePaths
      self.localPath = localPath
      self.recursive = recursive
      self.preserve = preserve
      self.label = label
      self.verbose = verbose
    }
  }
}
