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

  /// Loads the inventories (`-I`, and `~/.apssh/inventory.yaml` when present) and resolves the targets.
  /// - Throws: `InventoryError` (missing file, bad inventory with its line, unknown group…).
  init(_ options: TargetOptions) throws {
    let selection = try Self.resolver(options).select(options.targets, excluding: options.excludes)
    targets = selection.targets
    excludes = selection.excludes
    excludedCount = selection.excludedCount
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
