import ArgumentParser

/// How failures end a run and make its exit code: `--fail-fast`, `--max-rc`.
public struct ResultOptions: ParsableArguments, Sendable {
  /// Stop everything at the first failure.
  @Flag(name: .customLong("fail-fast"), help: "Stop every host's command at the first failure (exit code as usual).")
  public var failFast = false

  /// Exit with the largest remote status.
  @Flag(
    name: .customLong("max-rc"),
    help: "Exit with the largest status of the remote commands (128+n for a signal, 255 for a host not reached).")
  public var maxRC = false

  /// Creates default options.
  public init() {}
}
