import Foundation
import Testing

@testable import Inventory

/// Documents too big, too deep or with aliases that explode are refused before parsing.
@Suite struct YAMLLimitsTests {
  func failure(_ text: String) -> InventoryError? {
    do {
      _ = try Inventory.parse(yaml: text, path: "inv.yaml")
      return nil
    } catch let error as InventoryError {
      return error
    } catch {
      return nil
    }
  }

  @Test func deepNestingIsRefusedWithItsLine() throws {
    let flow =
      "all:\n  vars:\n    x: " + String(repeating: "{a: ", count: 5000) + "1" + String(repeating: "}", count: 5000)
    let error = try #require(failure(flow))
    #expect(error.code == .badYAML && error.line == 3 && error.message.contains("nests more than 100"))
    var block = "all:\n  hosts:\n"
    for level in 0..<300 { block += String(repeating: " ", count: 4 + 2 * level) + "k\(level):\n" }
    let blockError = try #require(failure(block))
    #expect(blockError.message.contains("nests more than 100"))
    // A normal depth is fine.
    var fine = "all:\n  children:\n"
    for level in 0..<20 {
      fine +=
        String(repeating: " ", count: 4 + 4 * level) + "g\(level):\n" + String(repeating: " ", count: 6 + 4 * level)
        + "children:\n"
    }
    #expect(failure(fine) == nil)
  }

  @Test func aliasBombsAreRefusedAndOrdinaryAliasesWork() throws {
    var bomb = "all:\n  vars:\n    a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
    for level in 1..<10 {
      bomb +=
        "    a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ",") + "]\n"
    }
    let error = try #require(failure(bomb))
    #expect(error.message.contains("alias bomb") && error.line != nil)
    // The same in block style.
    var blocks = "all:\n  vars:\n    a0: &a0\n      - lol\n      - lol\n"
    for level in 1..<10 {
      blocks += "    a\(level): &a\(level)\n" + String(repeating: "      - *a\(level - 1)\n", count: 9)
    }
    #expect(failure(blocks)?.message.contains("alias bomb") == true)
    let ordinary = """
      all:
        vars: &common
          ansible_user: admin
        children:
          web:
            vars: *common
            hosts:
              w1:
      """
    #expect(failure(ordinary) == nil)
    // `&&`, `*.c` and brackets inside plain text and block scalars are not YAML syntax.
    let scenario =
      "jobs:\n  - id: a\n    node: h\n    commands:\n      - type: Run\n        command: make && ls *.c\n"
      + "      - type: RunString\n        script_body: |\n          " + String(repeating: "[", count: 300) + " *x &y\n"
    #expect(throws: Never.self) { try YAMLLimits.check(scenario, file: "s.yaml") }
  }

  @Test func hugeDocumentsAreRefused() throws {
    let text = "all:\n  vars:\n    x: \"" + String(repeating: "y", count: YAMLLimits.maximumBytes) + "\"\n"
    let error = try #require(failure(text))
    #expect(error.message.contains("larger than"))
    #expect(error.file == "inv.yaml")
  }
}
