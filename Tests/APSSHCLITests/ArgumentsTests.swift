import ArgumentParser
import Foundation
import Testing

@testable import APSSHCLI

/// The option lists kept by hand in `Arguments` (for the Python-compatible rewriting of the
/// argument vector) against the options the commands declare to ArgumentParser.
@Suite struct ArgumentsTests {
  /// The named arguments of a command: (short names, long names, takes a value).
  static func declared(_ command: any ParsableCommand.Type) throws -> [(short: [String], long: [String], valued: Bool)]
  {
    let json = try #require(try JSONSerialization.jsonObject(with: Data(command._dumpHelp().utf8)) as? [String: Any])
    let body = try #require(json["command"] as? [String: Any])
    let arguments = try #require(body["arguments"] as? [[String: Any]])
    return arguments.compactMap { argument in
      guard let names = argument["names"] as? [[String: String]], let kind = argument["kind"] as? String else {
        return nil
      }
      return (
        names.filter { $0["kind"] == "short" }.compactMap { $0["name"] },
        names.filter { $0["kind"] == "long" }.compactMap { $0["name"].map { "--" + $0 } }, kind == "option"
      )
    }
  }

  @Test func apsshLists() throws {
    let options = try Self.declared(APSSHCommand.self)
    #expect(Set(options.flatMap(\.long)) == Set(Arguments.apsshLong), "every long option of apssh, for abbreviations")
    #expect(Set(options.filter(\.valued).flatMap(\.long)) == Arguments.valuedLong, "the long options that take a value")
    #expect(Set(options.filter(\.valued).flatMap(\.short).compactMap(\.first)) == Arguments.valuedShort)
  }

  @Test(arguments: [APPushCommand.self, APPullCommand.self] as [any ParsableCommand.Type])
  func copyLists(_ command: any ParsableCommand.Type) throws {
    let options = try Self.declared(command)
    #expect(Set(options.flatMap(\.long)) == Set(Arguments.copyLong))
    #expect(Set(options.filter(\.valued).flatMap(\.long)).isSubset(of: Arguments.valuedLong))
    #expect(Set(options.filter(\.valued).flatMap(\.short).compactMap(\.first)).isSubset(of: Arguments.valuedShort))
  }

  @Test func normalizing() {
    let long = Arguments.apsshLong
    #expect(
      Arguments.normalize(
        ["-tc", "-th1,h2", "--raw", "--retr=3", "ls", "-l"], longOptions: long, separateCommand: true)
        == ["--time-colon-format", "-t", "h1,h2", "--raw-format", "--retries=3", "--", "ls", "-l"])
    #expect(Arguments.normalize(["-t", "h", "--", "-x"], longOptions: long) == ["-t", "h", "--", "-x"])
  }
}
