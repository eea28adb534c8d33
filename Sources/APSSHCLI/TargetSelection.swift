import Foundation
import Inventory
import SshJobs

/// The hosts selected by `-t -x -l -g -I`: targets in order, each once, with the user filled in.
struct TargetSelection {
  /// The selected targets.
  let targets: [Target]
  /// The targets of the `-x` values.
  let excludes: [Target]
  /// How many targets `-x` removed.
  let excludedCount: Int
  /// The `-t` values as given, and those that gave no host.
  private let values: [String]
  private let emptyValues: [String]

  /// Loads the inventories (`-I`, and `~/.apssh/inventory.yaml` when present) and resolves the targets.
  /// - Throws: `InventoryError` (missing file, bad inventory with its line, unknown group…).
  init(_ options: TargetOptions) throws {
    let selection = try Self.resolver(options).select(options.targets, excluding: options.excludes)
    targets = selection.targets
    excludes = selection.excludes
    excludedCount = selection.excludedCount
    values = options.targets
    emptyValues = selection.emptyValues
  }

  /// Why no host was selected, for the error of a run without targets: no `-t`, `-t` values that
  /// select nothing (each named, with what it is), or exclusions that removed everything.
  var nothingSelectedMessage: String {
    if values.isEmpty {
      return "no target: name the hosts to run on with -t (a host, a range, @group with -I FILE, a file or a directory)"
    }
    var reasons: [String] = []
    for value in emptyValues {
      var isDirectory: ObjCBool = false
      let path = HomeDirectory.expandingTilde(in: value)
      if value.hasPrefix("@") {
        reasons.append("-t \(value): the group has no hosts")
      } else if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
        reasons.append(
          "-t \(value): the \(isDirectory.boolValue ? "directory holds no host file" : "file names no host")")
      } else {
        reasons.append("-t '\(value)': names no host")
      }
    }
    if excludedCount > 0 {
      let targets = "\(excludedCount) target\(excludedCount == 1 ? "" : "s")"
      reasons.append(
        emptyValues.isEmpty ? "-x removed all \(targets) of -t" : "-x removed the \(targets) of the others")
    }
    return "no host to run on: " + reasons.joined(separator: "; ")
  }

  /// A resolver over the inventories of `-I` and `~/.apssh/inventory.{yaml,yml,ini}`, with `-l`
  /// (else the local user) and `-g`.
  static func resolver(_ options: TargetOptions) throws -> TargetResolver {
    var paths = options.inventories
    for path in Inventory.defaultPaths() where !paths.contains(path) { paths.append(path) }
    let inventories = try paths.map { try Inventory.load(path: $0) }
    let user = options.login ?? SshConfiguration.localUsername
    let gateway = try options.gateway.map { try Target.parse($0) }
    return TargetResolver(inventories: inventories, defaultUser: user, defaultGateway: gateway)
  }
}
