import Foundation
import SshClient

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Installs a script (a local file or a string) with its includes and runs it: shared by
/// `RunScript` and `RunString`.
///
/// Remotely, the script goes to `~/.apssh-remote/<name>-<8 random letters>` (a unique name, so
/// parallel runs of one script on one host do not collide), or, when there are includes, to
/// `~/.apssh-remote/<name>-<random>.d/<name>` with the includes beside it. `~/.apssh-remote` and
/// the `.d` directories are private (mode 700, also when they were there before), and so is the
/// script (700). The command runs from the home directory. Once it has ended (whatever the
/// outcome: success, failure, time limit, cancellation), the script (or its `.d` directory) is
/// removed, unless `keep`. On a `LocalNode` the same layout is made under the local home.
struct RemoteScript: Sendable {
  enum Source: Sendable {
    case file(String)
    case body(String)
  }
  let source: Source
  let name: String
  let args: [String]
  let includes: [String]
  let capture: Capture?
  let variables: Variables?
  let stdin: CommandInput
  let kind: String
  let keep: Bool

  static let workdir = ".apssh-remote"
  /// The longest wait for the removal of an installed script once its command is over.
  static let removalLimit = Duration.seconds(10)

  /// The arguments as a line, with the variables known now (for labels).
  var argsLine: String {
    let line = args.joined(separator: " ")
    return (variables ?? capture?.variables)?.render(line) ?? line
  }

  /// `text` with every placeholder replaced, for the script about to run.
  private func resolved(_ text: String, _ context: CommandContext) throws -> String {
    guard let variables = variables ?? capture?.variables else { return text }
    do {
      return try variables.resolve(text)
    } catch {
      throw CommandError(host: context.node.userHost, "\(kind) \(name): \(error)")
    }
  }

  func run(in context: CommandContext) async throws -> ExitStatus {
    let arguments = try resolved(args.joined(separator: " "), context)
    let source: Source
    switch self.source {
    case .file(let path): source = .file(path)
    case .body(let body): source = .body(try resolved(body, context))
    }
    let unique = name + "-" + randomSuffix()
    let directory = includes.isEmpty ? Self.workdir : Self.workdir + "/" + unique + ".d"
    let scriptPath = directory + "/" + (includes.isEmpty ? unique : name)
    // What to remove afterwards: the script, or its own directory with the includes.
    let installed = includes.isEmpty ? scriptPath : directory
    if case .file(let local) = source, access(local, R_OK) != 0 {
      throw CommandError(host: context.node.userHost, "\(kind) : \(local) not found - bailing out")
    }
    for include in includes where access(include, R_OK) != 0 {
      throw CommandError(host: context.node.userHost, "include file \(include) not found")
    }
    // Connecting has its own limit, and a failure there leaves nothing to remove.
    let connection = try await (context.node as? SshNode)?.connectedForSftp()
    let status: ExitStatus
    do {
      let home: String
      if let connection {
        try await installRemotely(
          source, with: connection, directory: directory, scriptPath: scriptPath, context: context)
        home = ""
      } else {
        try installLocally(source, directory: directory, scriptPath: scriptPath, context: context)
        home = localHome() + "/"
      }
      let runner = context.verbose ? "bash -x " : ""
      let command = runner + home + scriptPath + (arguments.isEmpty ? "" : " " + arguments)
      context.message("\(kind): -> \(command)")
      status = try await context.execute(command, capture: capture, input: stdin)
      context.message("\(kind): \(status) <- \(command)")
    } catch {
      await remove(installed, with: connection, context: context)
      throw error
    }
    await remove(installed, with: connection, context: context)
    return status
  }

  private func installRemotely(
    _ source: Source, with connection: SshConnection, directory: String, scriptPath: String,
    context: CommandContext
  ) async throws {
    let includes = self.includes
    try await context.withinTimeLimit("installing \(name)") {
      try await connection.makeDirectory("~/" + directory, mode: 0o700)
      // Made by an older version, or by hand, it may be readable by others.
      try await connection.setMode("~/" + Self.workdir, 0o700)
      switch source {
      case .file(let local):
        try await connection.put([local], to: "~/" + scriptPath)
        try await connection.setMode("~/" + scriptPath, 0o700)
      case .body(let body):
        context.message("RunString: pushing script into \(scriptPath)")
        try await connection.writeFile(body, to: "~/" + scriptPath, mode: 0o700)
      }
      for include in includes {
        context.message("RunLocalStuff: pushing include \(include) in \(directory)")
        try await connection.put([include], to: "~/" + directory + "/")
      }
    }
  }

  /// Removes what was installed (unless `keep`), also when the command was cancelled: the
  /// removal runs in a task of its own, given at most `removalLimit`. A failure is a warning
  /// (unless the connection is lost: the job's error says so already).
  private func remove(_ installed: String, with connection: SshConnection?, context: CommandContext) async {
    guard !keep else { return }
    guard let connection else {
      let path = localHome() + "/" + installed
      guard FileManager.default.fileExists(atPath: path) else { return }
      do {
        try FileManager.default.removeItem(atPath: path)
      } catch {
        context.warning("cannot remove \(path): \((error as NSError).localizedDescription)")
      }
      return
    }
    let removal = Task { try await connection.remove("~/" + installed, recursive: true) }
    let watchdog = Task {
      try await Task.sleep(for: Self.removalLimit)
      removal.cancel()
    }
    let result = await removal.result
    watchdog.cancel()
    guard case .failure(let error) = result else { return }
    if let error = error as? SshError, error.code == .disconnected { return }
    let reason =
      error is CancellationError ? "it took more than \(Self.removalLimit.compactDescription)" : "\(error)"
    context.warning("cannot remove the script ~/\(installed): \(reason)")
  }

  private func installLocally(_ source: Source, directory: String, scriptPath: String, context: CommandContext) throws {
    let home = localHome()
    let manager = FileManager.default
    do {
      try manager.createDirectory(
        atPath: home + "/" + directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
      chmod(home + "/" + Self.workdir, 0o700)
      let target = home + "/" + scriptPath
      switch source {
      case .file(let local): try manager.copyItem(atPath: local, toPath: target)
      case .body(let body): try body.write(toFile: target, atomically: false, encoding: .utf8)
      }
      chmod(target, 0o700)
      for include in includes {
        try manager.copyItem(atPath: include, toPath: home + "/" + directory + "/" + baseName(include))
      }
    } catch {
      throw CommandError(host: context.node.userHost, "cannot install \(name) locally: \(error)")
    }
  }
}

/// The local home directory (``HomeDirectory/path``: `$HOME` first).
func localHome() -> String {
  HomeDirectory.path
}
