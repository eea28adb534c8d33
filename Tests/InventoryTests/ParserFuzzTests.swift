import Foundation
import SshJobs
import TestSupport
import Testing

@testable import Inventory

/// Random and adversarial input for every parser: each input gives a result or an error that
/// says where — never a crash or a hang. Seeded, so a failure can be replayed.
@Suite(.timeLimit(.minutes(2))) struct ParserFuzzTests {

  /// Pieces that parsers treat specially.
  static let pieces = [
    "[", "]", "{", "}", ":", ": ", ",", "-", "- ", "&a", "*a", "|", ">", "'", "\"", "#", "\n", "\t", " ", "@",
    "[1-3]", "[3-1]", "[01:10:2]", "[a-c]", "->", "→", "None", "{{", "}}", "{{ x }}", "{{ x | raw }}", "{{ '{{' }}",
    "%", "\\", "\u{0}", "\r\n", "é", "..", "/", "0", "65536", "-1", "127.0.0.1", "::1", "[::1]:22", "all", "hosts",
    "vars", "children", "jobs", "nodes", "commands", "type", "Run", "required", "node", "=", ";", "ansible_host",
  ]

  /// `seed` mutated a few times: pieces inserted, spans deleted or repeated, truncated.
  static func mutate(_ seed: String, _ random: inout SeededRandom) -> String {
    var text = Array(seed.unicodeScalars)
    for _ in 0..<Int.random(in: 1...6, using: &random) {
      let position = text.isEmpty ? 0 : Int.random(in: 0...text.count, using: &random)
      switch Int.random(in: 0..<5, using: &random) {
      case 0, 1:
        text.insert(contentsOf: pieces.randomElement(using: &random)!.unicodeScalars, at: position)
      case 2:
        let end = min(text.count, position + Int.random(in: 1...20, using: &random))
        text.removeSubrange(position..<end)
      case 3:
        let end = min(text.count, position + Int.random(in: 1...40, using: &random))
        text.insert(contentsOf: Array(text[position..<end]), at: position)
      default:
        text = Array(text.prefix(position))
      }
    }
    var result = String.UnicodeScalarView()
    result.append(contentsOf: text)
    return String(result)
  }

  /// The example files of the repository, and a few small ones.
  static func seeds(_ directory: String, _ extensions: Set<String>) -> [String] {
    let path = repositoryRoot + "/" + directory
    let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    return names.sorted().filter { extensions.contains(($0 as NSString).pathExtension) }
      .compactMap { try? String(contentsOfFile: path + "/" + $0, encoding: .utf8) }
  }

  /// Parses `text`; an error must be an `InventoryError` that names the file.
  func expectResultOrLocatedError(_ text: String, _ parse: (String) throws -> Void) {
    do {
      try parse(text)
    } catch let error as InventoryError {
      #expect(error.file == "fuzz.yaml" || error.file == "fuzz.ini", "no file in \(error) for \(text.debugDescription)")
    } catch {
      Issue.record("not an InventoryError: \(error) for \(text.debugDescription)")
    }
  }

  @Test func yamlInventories() {
    var random = SeededRandom(seed: 1)
    let seeds = Self.seeds("inventories", ["yaml"]) + ["all:\n  hosts:\n    h[1-3]:\n      port: 22\n"]
    for _ in 0..<1500 {
      let text = Self.mutate(seeds.randomElement(using: &random)!, &random)
      expectResultOrLocatedError(text) { _ = try Inventory.parse(yaml: $0, path: "fuzz.yaml") }
    }
  }

  @Test func iniInventories() {
    var random = SeededRandom(seed: 2)
    let seeds = Self.seeds("inventories", ["ini"]) + ["[web]\nw[1-2] ansible_port=2222\n[web:vars]\nuser=me\n"]
    for _ in 0..<1500 {
      let text = Self.mutate(seeds.randomElement(using: &random)!, &random)
      expectResultOrLocatedError(text) { _ = try Inventory.parse(ini: $0, path: "fuzz.ini") }
    }
  }

  @Test func scenarios() {
    var random = SeededRandom(seed: 3)
    let seeds = Self.seeds("examples/scenarios", ["yaml"])
    let resolver = TargetResolver(fallbackDirectory: nil)
    for _ in 0..<1500 {
      let text = Self.mutate(seeds.randomElement(using: &random)!, &random)
      expectResultOrLocatedError(text) {
        _ = try ScenarioFile.parse($0, path: "fuzz.yaml", variables: ["user": "u", "window": "2"], resolver: resolver)
      }
    }
  }

  @Test func targetsAndRanges() {
    var random = SeededRandom(seed: 4)
    let seeds = [
      "user@host:22", "gw->h[1-3]", "a->b->c", "None->x", "[::1]:2222", "10.0.0.[1:8]", "n[01-16]", "r[1-2]n[a-c]",
    ]
    for _ in 0..<3000 {
      let text = Self.mutate(seeds.randomElement(using: &random)!, &random)
      do {
        let target = try Target.parse(text)
        let expanded = try target.expandingRanges()
        #expect(expanded.count <= HostRange.maximumHosts)
      } catch is InventoryError {
      } catch {
        Issue.record("not an InventoryError: \(error) for \(text.debugDescription)")
      }
    }
  }

  @Test func templates() {
    var random = SeededRandom(seed: 5)
    let seeds = ["echo {{ a }} and {{ b | raw }}", "{{ '{{' }}.Name}}", "plain text", "{{x}}{{y}}"]
    for _ in 0..<3000 {
      let text = Self.mutate(seeds.randomElement(using: &random)!, &random)
      let template: Template
      do {
        template = try Template(parsing: text)
      } catch {
        #expect(error.line >= 1 && error.column >= 1)
        continue
      }
      // What parses renders, and its rendering with no value parses back to the same pieces.
      let again = try? Template(parsing: template.partiallyRendered(quoting: false) { _ in nil })
      #expect(again?.pieces == template.pieces, "\(text.debugDescription)")
    }
  }
}
