import ArgumentParser
import Inventory

/// The `apssh` tool, callable in-process (tests) as well as from its executable.
public enum APSSH {
  /// Runs `apssh` with `arguments` (without the program name); returns the exit code.
  /// - Parameter environment: where output goes, whether stderr is a terminal, whether to handle SIGINT.
  public static func main(arguments: [String], environment: CLIEnvironment = .standard) async -> Int32 {
    await ToolMain.run(
      APSSHCommand.self, arguments: arguments, longOptions: Arguments.apsshLong, separateCommand: true,
      environment: environment)
  }
}

/// The `appush` tool, callable in-process.
public enum APPush {
  /// Runs `appush` with `arguments` (without the program name); returns the exit code.
  public static func main(arguments: [String], environment: CLIEnvironment = .standard) async -> Int32 {
    if let refusal = Arguments.copyRefusal(arguments, tool: "appush") {
      Console(sink: environment.sink).err(refusal)
      return ExitCodes.usage
    }
    return await ToolMain.run(
      APPushCommand.self, arguments: arguments, longOptions: Arguments.copyLong, environment: environment)
  }
}

/// The `appull` tool, callable in-process.
public enum APPull {
  /// Runs `appull` with `arguments` (without the program name); returns the exit code.
  public static func main(arguments: [String], environment: CLIEnvironment = .standard) async -> Int32 {
    if let refusal = Arguments.copyRefusal(arguments, tool: "appull") {
      Console(sink: environment.sink).err(refusal)
      return ExitCodes.usage
    }
    return await ToolMain.run(
      APPullCommand.self, arguments: arguments, longOptions: Arguments.copyLong, environment: environment)
  }
}

/// A tool's command line, parsed by ArgumentParser (options, `validate()`), then run.
protocol ToolCommand: ParsableCommand {
  /// Runs the parsed command; returns the exit code.
  func execute(_ environment: CLIEnvironment) async throws -> Int32
}

/// The one `main` of the tools: parse (help on stdout with exit 0, usage errors on stderr with
/// exit 2), run, and turn thrown errors into a message on stderr and an exit code.
enum ToolMain {
  static func run<Command: ToolCommand>(
    _ type: Command.Type, arguments: [String], longOptions: [String], separateCommand: Bool = false,
    environment: CLIEnvironment
  ) async -> Int32 {
    let console = Console(sink: environment.sink)
    let tool = Command.configuration.commandName ?? "apssh"
    let command: Command
    do {
      command = try Command.parse(
        Arguments.normalize(arguments, longOptions: longOptions, separateCommand: separateCommand))
    } catch {
      let message = Command.fullMessage(for: error)
      if Command.exitCode(for: error).isSuccess {
        console.out(message)
        return ExitCodes.success
      }
      console.err(message.hasPrefix("Error:") ? "\(tool): " + message : message)
      return ExitCodes.usage
    }
    do {
      return try await command.execute(environment)
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
