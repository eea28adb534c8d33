import ArgumentParser

/// Which hosts to run on: `-t -x -l -g -I`, shared by apssh, appush and appull.
public struct TargetOptions: ParsableArguments, Sendable {
  /// Target specs (additive): hosts, `user@host:port`, ranges, `@group`, files, directories, inventories.
  @Option(
    name: [.customShort("t"), .customLong("target")],
    help: ArgumentHelp(
      "A target: [user@]host[:port], gw->host, a range node[1-4], @group, a hosts file, a directory, or an inventory (repeatable).",
      valueName: "TARGET"))
  public var targets: [String] = []

  /// Like `--target`, but excluded.
  @Option(
    name: [.customShort("x"), .customLong("exclude")],
    help: ArgumentHelp("Exclude these targets (repeatable).", valueName: "TARGET"))
  public var excludes: [String] = []

  /// The remote user for targets without `user@`.
  @Option(
    name: [.customShort("l"), .customLong("login")],
    help: "Remote user for targets and gateway without user@ (default: the local user).")
  public var login: String?

  /// A default gateway `[user@]host[:port]` for two-hop ssh.
  @Option(
    name: [.customShort("g"), .customLong("gateway")],
    help: "Gateway [user@]host[:port] for targets that do not name their own.")
  public var gateway: String?

  /// Inventory files where `@group` and host names are looked up.
  @Option(
    name: [.customShort("I"), .customLong("inventory")],
    help: ArgumentHelp(
      "A YAML or INI inventory (repeatable; ~/.apssh/inventory.yaml is read when present).", valueName: "FILE"))
  public var inventories: [String] = []

  /// Creates empty options.
  public init() {}
}
