import ArgumentParser
import Foundation
import Inventory
import SshJobs

#if canImport(Glibc)
  import Glibc
#endif

/// Whether a copy tool pushes or pulls.
enum CopyMode: String {
  case push, pull
  var tool: String { "ap" + rawValue }
}

/// The options and body shared by `appush` and `appull` (reference §2.5, quirks fixed: `-K` exists,
/// `{user}` is the user name without `@`, the local parent directories of pulled files are created).
struct CopyOptions: ParsableArguments {
  @OptionGroup var targetOptions: TargetOptions
  @OptionGroup var connection: ConnectionOptions
  @OptionGroup var output: ReportOptions
  @OptionGroup var result: ResultOptions

  @Flag(name: [.customShort("r"), .customLong("recursive")], help: "Copy directories recursively.")
  var recursive = false

  @Flag(name: .customLong("preserve"), help: "Keep file modes and modification times.")
  var preserve = false

  @Flag(name: [.customShort("n"), .customLong("dry-run")], help: "Print the selected targets and exit.")
  var dryRun = false

  @Flag(name: [.customShort("V"), .customLong("version")], help: "Print the version and exit.")
  var version = false

  @Argument(help: "Sources then destination; remote paths start with @: ({host} {fqdn} {user} are expanded).")
  var paths: [String] = []

  /// Usage errors, found before anything runs (exit 2).
  func validate(_ mode: CopyMode) throws {
    if version { return }
    guard paths.count >= 2 else {
      throw ValidationError(
        mode == .push ? "usage: appush [options] LOCAL... @:REMOTE" : "usage: appull [options] @:REMOTE... LOCAL")
    }
    let sources = Array(paths.dropLast())
    let destination = paths[paths.count - 1]
    for remote in mode == .push ? [destination] : sources where !remote.hasPrefix("@:") {
      throw ValidationError("\(remote) is not remote - should start with @:")
    }
    if mode == .pull, destination.hasPrefix("@:") {
      throw ValidationError("\(destination) is remote - the destination of appull is a local path")
    }
    if mode == .push, let remote = sources.first(where: { $0.hasPrefix("@:") }) {
      throw ValidationError("\(remote) is remote - the sources of appush are local paths")
    }
  }

  /// Runs the copy; returns the exit code.
  func execute(_ mode: CopyMode, environment: CLIEnvironment) async throws -> Int32 {
    let console = Console(sink: environment.sink)
    let tool = mode.tool
    if version {
      console.out("\(tool) version \(APSSHVersion.current)")
      return ExitCodes.success
    }
    let sources = Array(paths.dropLast())
    let destination = paths[paths.count - 1]
    let settings = try connection.runSettings(login: targetOptions.login)
    let selection = try TargetSelection(targetOptions)
    if dryRun {
      for target in selection.targets { console.out(target.description) }
      return ExitCodes.success
    }
    guard !selection.targets.isEmpty else { throw CLIError(selection.nothingSelectedMessage) }
    let user = { (target: Target) in target.user ?? settings.defaultUser }
    switch mode {
    case .push:
      try Self.checkSources(
        sources, targets: selection.targets, recursive: recursive,
        expand: { Self.expand($0, target: $1, user: user($1)) })
    case .pull:
      try Self.checkDestination(
        destination, targets: selection.targets, expand: { Self.expand($0, target: $1, user: user($1)) })
    }
    try await connection.checkFiles(nodes: selection.targets.map(\.nodeSpec), settings: settings, requireKey: true)
    let verbose = output.verbose || output.debug
    let jobs = selection.targets.map { target -> JobSpec in
      let user = target.user ?? settings.defaultUser
      let expand = { (path: String) in Self.expand(path, target: target, user: user) }
      let remote = { (path: String) -> String in
        let rest = expand(String(path.dropFirst(2)))
        return rest.isEmpty ? "." : rest
      }
      let command: any Command
      switch mode {
      case .push:
        command = Push(
          localPaths: sources.map(expand), remotePath: remote(destination), recursive: recursive, preserve: preserve,
          verbose: verbose)
      case .pull:
        let local = expand(destination)
        if local != destination { Self.makeParent(of: local) }
        command = Pull(
          remotePaths: sources.map(remote), localPath: local, recursive: recursive, preserve: preserve,
          verbose: verbose)
      }
      return JobSpec(name: target.description, node: target.nodeSpec, commands: [command], critical: result.failFast)
    }
    return try await ToolRun(
      tool: tool, commandLine: paths.joined(separator: " "), spec: RunSpec(label: tool, jobs: jobs), settings: settings,
      output: try output.outputOptions(), result: result, raw: false, mark: false, scenario: nil,
      environment: environment
    ).run()
  }

  /// appush: every local source (as expanded for each target) must be there, readable, and a
  /// regular file or (with `-r`) a directory, before any connection (a usage error, exit 2).
  static func checkSources(
    _ sources: [String], targets: [Target], recursive: Bool, expand: (String, Target) -> String
  ) throws {
    var checked: Set<String> = []
    for target in targets {
      for source in sources {
        let path = expand(source, target)
        guard checked.insert(path).inserted else { continue }
        let host = path == source ? "" : " (\(source) for \(target.description))"
        var info = stat()
        guard stat(path, &info) == 0 else {
          throw CLIError("no such local file: \(path)\(host)")
        }
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
          guard recursive else { throw CLIError("\(path) is a directory: copy it with -r\(host)") }
          guard access(path, R_OK | X_OK) == 0 else {
            throw CLIError("cannot read the local directory \(path): \(String(cString: strerror(errno)))\(host)")
          }
        case S_IFREG:
          guard access(path, R_OK) == 0 else {
            throw CLIError("cannot read the local file \(path): \(String(cString: strerror(errno)))\(host)")
          }
        default:
          throw CLIError("\(path) is not a regular file or a directory\(host)")
        }
      }
    }
  }

  /// appull: two hosts must not write to the same local path (their data would be mixed in one
  /// file): several hosts need `{host}` (or `{fqdn}`, `{user}`) in the destination (exit 2).
  static func checkDestination(_ destination: String, targets: [Target], expand: (String, Target) -> String) throws {
    guard targets.count > 1 else { return }
    var seen: [String: Target] = [:]
    for target in targets {
      let path = expand(destination, target)
      guard let other = seen[path] else {
        seen[path] = target
        continue
      }
      if path == destination {
        throw CLIError(
          "\(targets.count) hosts would all write to the local path \(destination): put {host} in it"
            + " (e.g. \(example(destination))) so that each host gets its own")
      }
      let both = "\(other.description) and \(target.description) would both write to the local path \(path)"
      if !destination.contains("{host}") && !destination.contains("{fqdn}") {
        throw CLIError("\(both): put {host} in \(destination) (e.g. \(example(destination)))")
      }
      var placeholders: [String] = []
      if other.hostname != target.hostname && !destination.contains("{fqdn}") { placeholders.append("{fqdn}") }
      if other.user != target.user && !destination.contains("{user}") { placeholders.append("{user}") }
      if placeholders.isEmpty {
        throw CLIError(
          "\(both): no placeholder of \(destination) ({host}, {fqdn}, {user}) tells them apart;"
            + " pull from them in separate runs")
      }
      throw CLIError("\(both): tell them apart with \(placeholders.joined(separator: " and ")) in \(destination)")
    }
  }

  /// `DIR/{host}` for a directory destination, `DIR/{host}-NAME` for a file.
  private static func example(_ destination: String) -> String {
    var isDirectory: ObjCBool = false
    let trimmed = destination.count > 1 && destination.hasSuffix("/") ? String(destination.dropLast()) : destination
    if destination.hasSuffix("/")
      || (FileManager.default.fileExists(atPath: destination, isDirectory: &isDirectory) && isDirectory.boolValue)
    {
      return trimmed + "/{host}"
    }
    let parent = (trimmed as NSString).deletingLastPathComponent
    let name = "{host}-" + (trimmed as NSString).lastPathComponent
    return parent.isEmpty ? name : parent + "/" + name
  }

  /// `{fqdn}` → the host name, `{host}` → its first label (whole IPv4 address), `{user}` → the user.
  static func expand(_ path: String, target: Target, user: String) -> String {
    let origin = OutputOrigin(hostname: target.hostname, username: user)
    return path.replacingOccurrences(of: "{fqdn}", with: target.hostname)
      .replacingOccurrences(of: "{host}", with: origin.shortHostname)
      .replacingOccurrences(of: "{user}", with: user)
  }

  /// Creates the parent directory of a per-host local destination.
  static func makeParent(of path: String) {
    let parent = (path as NSString).deletingLastPathComponent
    guard !parent.isEmpty else { return }
    try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
  }
}

/// `appush`: copy local files to many hosts (SFTP), one job per host.
struct APPushCommand: ToolCommand {
  static let configuration = CommandConfiguration(
    commandName: "appush", abstract: "Copy local files to many hosts: appush -t HOSTS LOCAL... @:REMOTE")
  @OptionGroup var options: CopyOptions

  func validate() throws { try options.validate(.push) }
  func execute(_ environment: CLIEnvironment) async throws -> Int32 {
    try await options.execute(.push, environment: environment)
  }
}

/// `appull`: copy remote files from many hosts (SFTP), one job per host.
struct APPullCommand: ToolCommand {
  static let configuration = CommandConfiguration(
    commandName: "appull",
    abstract: "Copy files from many hosts: appull -t HOSTS @:REMOTE... LOCAL (use {host} in LOCAL)")
  @OptionGroup var options: CopyOptions

  func validate() throws { try options.validate(.pull) }
  func execute(_ environment: CLIEnvironment) async throws -> Int32 {
    try await options.execute(.pull, environment: environment)
  }
}
