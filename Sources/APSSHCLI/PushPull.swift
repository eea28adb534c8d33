import ArgumentParser
import Foundation
import Inventory
import SshJobs

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
  @OptionGroup var output: OutputOptions

  @Flag(name: [.customShort("r"), .customLong("recursive")], help: "Copy directories recursively.")
  var recursive = false

  @Flag(name: .customLong("preserve"), help: "Keep file modes and modification times.")
  var preserve = false

  @Flag(name: .customLong("raw-format"), help: "Print lines as they are, without the host name.")
  var raw = false

  @Flag(name: [.customShort("n"), .customLong("dry-run")], help: "Print the selected targets and exit.")
  var dryRun = false

  @Flag(name: [.customShort("V"), .customLong("version")], help: "Print the version and exit.")
  var version = false

  @Argument(help: "Sources then destination; remote paths start with @: ({host} {fqdn} {user} are expanded).")
  var paths: [String] = []

  /// Runs the copy; returns the exit code.
  func execute(_ mode: CopyMode, environment: CLIEnvironment) async throws -> Int32 {
    let console = Console(sink: environment.sink)
    let tool = mode.tool
    if version {
      console.out("\(tool) version \(APSSHVersion.current)")
      return ExitCodes.success
    }
    guard paths.count >= 2 else {
      throw CLIError(
        mode == .push ? "usage: appush [options] LOCAL... @:REMOTE" : "usage: appull [options] @:REMOTE... LOCAL")
    }
    let sources = Array(paths.dropLast())
    let destination = paths[paths.count - 1]
    let remotes = mode == .push ? [destination] : sources
    for remote in remotes where !remote.hasPrefix("@:") {
      throw CLIError("\(remote) is not remote - should start with @:")
    }
    if mode == .pull, destination.hasPrefix("@:") {
      throw CLIError("\(destination) is remote - the destination of appull is a local path")
    }
    if mode == .push, let remote = sources.first(where: { $0.hasPrefix("@:") }) {
      throw CLIError("\(remote) is remote - the sources of appush are local paths")
    }
    let settings = try ConnectionSettings(connection)
    let selection = try TargetSelection(targetOptions)
    if dryRun {
      for target in selection.targets { console.out(target.description) }
      return ExitCodes.success
    }
    guard !selection.targets.isEmpty else { throw CLIError("it makes no sense to run without any target (use -t)") }
    try settings.checkKeys(targets: selection.targets, okIfNoKey: connection.okIfNoKey)
    let verbose = output.verbose || output.debug
    let run = HostCommandRun(
      tool: tool, commandLine: paths.joined(separator: " "), selection: selection, settings: settings, output: output,
      raw: raw, mark: false, environment: environment)
    return await run.run { target, _ -> any Command in
      let user = target.user ?? SshConfiguration.localUsername
      let expand = { (path: String) in Self.expand(path, target: target, user: user) }
      let remote = { (path: String) -> String in
        let rest = expand(String(path.dropFirst(2)))
        return rest.isEmpty ? "." : rest
      }
      switch mode {
      case .push:
        return Push(
          localPaths: sources.map(expand), remotePath: remote(destination), recursive: recursive, preserve: preserve,
          verbose: verbose)
      case .pull:
        let local = expand(destination)
        if local != destination { Self.makeParent(of: local) }
        return Pull(
          remotePaths: sources.map(remote), localPath: local, recursive: recursive, preserve: preserve,
          verbose: verbose)
      }
    }
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
struct APPushCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "appush", abstract: "Copy local files to many hosts: appush -t HOSTS LOCAL... @:REMOTE")
  @OptionGroup var options: CopyOptions
}

/// `appull`: copy remote files from many hosts (SFTP), one job per host.
struct APPullCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "appull", abstract: "Copy files from many hosts: appull -t HOSTS @:REMOTE... LOCAL (use {host} in LOCAL)")
  @OptionGroup var options: CopyOptions
}

/// The `appush` tool, callable in-process.
public enum APPush {
  /// Runs `appush` with `arguments` (without the program name); returns the exit code.
  public static func main(arguments: [String], environment: CLIEnvironment = .standard) async -> Int32 {
    let console = Console(sink: environment.sink)
    switch CommandParsing.parse(APPushCommand.self, arguments, longOptions: Arguments.copyLong, console: console) {
    case .failure(let exit): return exit.code
    case .success(let command):
      return await CommandFailure.guarding(console: console, tool: "appush") {
        try await command.options.execute(.push, environment: environment)
      }
    }
  }
}

/// The `appull` tool, callable in-process.
public enum APPull {
  /// Runs `appull` with `arguments` (without the program name); returns the exit code.
  public static func main(arguments: [String], environment: CLIEnvironment = .standard) async -> Int32 {
    let console = Console(sink: environment.sink)
    switch CommandParsing.parse(APPullCommand.self, arguments, longOptions: Arguments.copyLong, console: console) {
    case .failure(let exit): return exit.code
    case .success(let command):
      return await CommandFailure.guarding(console: console, tool: "appull") {
        try await command.options.execute(.pull, environment: environment)
      }
    }
  }
}
