import ArgumentParser
import Foundation
import Inventory
import TestSupport
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

  @Test func copyToolsRefuseTheOutputOptionsOfApssh() {
    let refused: [[String]] = [
      ["-o", "x"], ["-ox"], ["--out-dir=x"], ["--out", "x"], ["-d"], ["--date"], ["-f", "{line}"], ["-f{line}"],
      ["--form", "x"], ["-tc"], ["--time-colon"], ["--raw-format"], ["--raw"], ["--json-max-output", "1K"],
      ["-t", "h", "a", "-o", "x"],
    ]
    for words in refused {
      let message = Arguments.copyRefusal(words, tool: "appull")
      #expect(message?.hasPrefix("appull: ") == true, "\(words)")
      #expect(message?.contains("is an output option of apssh, not of appull") == true, "\(words)")
    }
    #expect(Arguments.copyRefusal(["-o", "x"], tool: "appush")?.hasPrefix("appush: -o/--out-dir is") == true)
    let accepted: [[String]] = [
      ["-v"], ["-D"], ["--de"], ["--debug"], ["--json"], ["-r"], ["--rec"], ["--f"], ["--no-p"], ["-t", "h"],
      ["-th1,h2"], ["-tnode"], ["a", "@:"], ["--", "-o", "@:"], ["-"], ["-n"], ["--dry-run"],
    ]
    for words in accepted {
      #expect(Arguments.copyRefusal(words, tool: "appush") == nil, "\(words)")
    }
  }

  /// Whatever the targets and the destination, appull refuses exactly when two hosts would write
  /// to the same local path, and names them (a seeded property test).
  @Test func pullDestinationsAreRefusedExactlyWhenTheyCollide() throws {
    var random = SeededRandom(seed: 12)
    let hosts = ["a.x.org", "a.y.org", "b.x.org", "10.0.0.1", "10.0.0.2", "c"]
    let users = ["u", "v", nil]
    let destinations = [
      "out", "out/", "{host}", "{fqdn}", "{user}", "d/{host}-{user}", "{fqdn}.{user}", "x-{host}/y", "{user}/{fqdn}",
    ]
    for _ in 0..<2000 {
      let count = Int.random(in: 1...4, using: &random)
      let targets = try (0..<count).map { _ in
        let user = users.randomElement(using: &random)!
        return try Target.parse((user.map { $0 + "@" } ?? "") + hosts.randomElement(using: &random)!)
      }
      let destination = destinations.randomElement(using: &random)!
      let expand = { (path: String, target: Target) in
        CopyOptions.expand(path, target: target, user: target.user ?? "me")
      }
      let paths = targets.map { expand(destination, $0) }
      let collides = Set(paths).count < paths.count
      do {
        try CopyOptions.checkDestination(destination, targets: targets, expand: expand)
        #expect(!collides, "\(targets) \(destination)")
      } catch let error as CLIError {
        #expect(collides, "\(targets) \(destination): \(error.message)")
        #expect(error.code == 2)
        #expect(error.message.contains("would"), "\(error.message)")
        #expect(error.message.contains(destination), "the destination is named: \(error.message)")
      }
    }
  }
}
