import Inventory

/// The `apssh` tool, callable in-process (tests) as well as from its executable.
public enum APSSH {
  /// Runs `apssh` with `arguments` (without the program name); returns the exit code.
  /// - Parameter environment: where output goes, whether stderr is a terminal, whether to handle SIGINT.
  public static func main(arguments: [String], environment: CLIEnvironment = .standard) async -> Int32 {
    let console = Console(sink: environment.sink)
    switch CommandParsing.parse(APSSHCommand.self, arguments, longOptions: Arguments.apsshLong, separateCommand: true, console: console) {
    case .failure(let exit): return exit.code
    case .success(let command):
      return await CommandFailure.guarding(console: console, tool: "apssh") {
        try await command.execute(environment)
      }
    }
  }
}

/// Turns thrown errors into a message on stderr and an exit code.
enum CommandFailure {
  /// Runs `body`, mapping `CLIError` and `InventoryError` (exit 2) and anything else (exit 1) to messages.
  static func guarding(console: Console, tool: String, _ body: () async throws -> Int32) async -> Int32 {
    do {
      return try await body()
    } catch let error as CLIError {
      console.err(error.message.hasPrefix(tool) ? error.message : "\(tool): \(error.message)")
      return error.code
    } catch let error as InventoryError {
      console.err("\(tool): \(error)")
      return ExitCodes.usage
    } catch {
      console.err("\(tool): \(error)")
      return ExitCodes.failure
    }
  }
}
