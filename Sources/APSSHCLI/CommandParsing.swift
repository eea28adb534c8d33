import ArgumentParser

/// Parses a tool's arguments with ArgumentParser, printing help (stdout, exit 0) or the error (stderr, exit 2).
enum CommandParsing {
  /// The parsed command, or the exit code after printing help or the error.
  static func parse<C: ParsableArguments>(
    _ type: C.Type, _ arguments: [String], longOptions: [String], separateCommand: Bool = false, console: Console
  ) -> Result<C, CLIExit> {
    do {
      return .success(try C.parse(Arguments.normalize(arguments, longOptions: longOptions, separateCommand: separateCommand)))
    } catch {
      let message = C.fullMessage(for: error)
      if C.exitCode(for: error).isSuccess {
        console.out(message)
        return .failure(CLIExit(code: ExitCodes.success))
      }
      console.err(message)
      return .failure(CLIExit(code: ExitCodes.usage))
    }
  }
}

/// An exit with a code, as an `Error` so it can travel in a `Result`.
struct CLIExit: Error {
  let code: Int32
}
