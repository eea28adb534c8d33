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
/// `~/.apssh-remote/<name>-<random>.d/<name>` with the includes beside it. The directory is made
/// race-free (`mkdir -p`). The command runs from the home directory. On a `LocalNode` the same
/// layout is made under the local home.
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

  static let workdir = ".apssh-remote"

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
    var prefix = ""
    if case .file(let local) = source {
      guard access(local, R_OK) == 0 else {
        throw CommandError(host: context.node.userHost, "\(kind) : \(local) not found - bailing out")
      }
      if access(local, X_OK) != 0 { prefix = "chmod u+x \(scriptPath) && " }
    }
    for include in includes where access(include, R_OK) != 0 {
      throw CommandError(host: context.node.userHost, "include file \(include) not found")
    }
    if let ssh = context.node as? SshNode {
      let includes = self.includes
      try await context.withinTimeLimit("installing \(name)") {
        let connection = try await ssh.connectedForSftp()
        try await connection.makeDirectory("~/" + directory)
        switch source {
        case .file(let local):
          try await connection.put([local], to: "~/" + scriptPath)
        case .body(let body):
          context.message("RunString: pushing script into \(scriptPath)")
          try await connection.writeFile(body, to: "~/" + scriptPath, mode: 0o755)
        }
        for include in includes {
          context.message("RunLocalStuff: pushing include \(include) in \(directory)")
          try await connection.put([include], to: "~/" + directory + "/")
        }
      }
    } else {
      try installLocally(source, directory: directory, scriptPath: scriptPath, context: context)
      prefix = ""
    }
    let runner = context.verbose ? "bash -x " : ""
    let home = context.node is SshNode ? "" : localHome() + "/"
    let command = prefix + runner + home + scriptPath + (arguments.isEmpty ? "" : " " + arguments)
    context.message("\(kind): -> \(command)")
    let status = try await context.execute(command, capture: capture, input: stdin)
    context.message("\(kind): \(status) <- \(command)")
    return status
  }

  private func installLocally(_ source: Source, directory: String, scriptPath: String, context: CommandContext) throws {
    let home = localHome()
    let manager = FileManager.default
    do {
      try manager.createDirectory(atPath: home + "/" + directory, withIntermediateDirectories: true)
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
