import Foundation
import TestSupport
import Testing

@testable import SshJobs

/// The one substitution engine: parsing, quoting, errors; property tests against a real shell.
@Suite struct TemplateTests {
  @Test func piecesAndNames() throws {
    let template = try Template(parsing: "echo {{ a }}-{{b|raw}} {{ 'x{{y' }} {{a}}")
    #expect(
      template.pieces == [
        .text("echo "), .variable("a", raw: false), .text("-"), .variable("b", raw: true), .text(" x{{y "),
        .variable("a", raw: false),
      ])
    #expect(template.variableNames == ["a", "b"])
    #expect(template.description == "echo {{ a }}-{{ b | raw }} x{{y {{ a }}")
    #expect(try Template(parsing: "no placeholder }} here").isLiteral)
  }

  @Test func rendering() throws {
    let template = try Template(parsing: "cp {{ file }} {{ dir | raw }}/ # {{ other }}")
    let values = ["file": "my file's name", "dir": "/tmp/a b"]
    #expect(template.render(quoting: true) { values[$0] } == #"cp 'my file'"'"'s name' /tmp/a b/ # {{ other }}"#)
    #expect(template.render(quoting: false) { values[$0] } == "cp my file's name /tmp/a b/ # {{ other }}")
  }

  @Test(arguments: [
    ("echo {{ x", "without its '}}'", 1, 6),
    ("line one\n  {{ 1abc }}", "is not a placeholder", 2, 3),
    ("{{ a | upper }}", "is not a placeholder", 1, 1),
    ("{{ }}", "is not a placeholder", 1, 1),
    ("{{ 'it's' }}", "is not a placeholder", 1, 1),
  ])
  func errors(text: String, message: String, line: Int, column: Int) {
    #expect {
      try Template(parsing: text)
    } throws: { error in
      guard let error = error as? TemplateError else { return false }
      return error.message.contains(message) && error.line == line && error.column == column
    }
  }

  @Test func quoting() {
    #expect(ShellQuoting.quote("") == "''")
    #expect(ShellQuoting.quote("simple-word_1.2/x:y@z%+=,") == "simple-word_1.2/x:y@z%+=,")
    #expect(ShellQuoting.quote("two words") == "'two words'")
    #expect(ShellQuoting.quote("it's") == #"'it'"'"'s'"#)
    #expect(ShellQuoting.quote("$(rm -rf ~)") == "'$(rm -rf ~)'")
  }

  /// Random text from an alphabet full of shell syntax.
  static func randomText(_ generator: inout SeededRandom, length: Int) -> String {
    let alphabet = Array("ab Z9 '\"\\$`!*?;&|<>(){}[]#~\n\t%=,:é€{}")
    return String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
  }

  @Test func quotedValuesAreOneWordForARealShell() async throws {
    var generator = SeededRandom(seed: 101)
    var values = ["", " ", "'", "''", "\"", "\\", "a\nb", "{{ x }}", "-n", "--", "*"]
    for _ in 0..<300 { values.append(Self.randomText(&generator, length: Int.random(in: 0...24, using: &generator))) }
    // One sh run prints every quoted value followed by a NUL: each value must come back as it was.
    let script = "printf '%s\\0' " + values.map(ShellQuoting.quote).joined(separator: " ")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", script]
    let output = Pipe()
    process.standardOutput = output
    let ended = AsyncStream<Void> { continuation in process.terminationHandler = { _ in continuation.finish() } }
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    for await _ in ended {}
    var printed = data.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    printed.removeLast()  // after the last NUL
    #expect(printed == values)
  }

  @Test func partialRenderingReadsBackToTheSameText() throws {
    var generator = SeededRandom(seed: 102)
    for _ in 0..<300 {
      // A template of random literal text (braces included, as {{ '{{' }}) and placeholders.
      var source = ""
      var expected = ""
      let known = ["a": Self.randomText(&generator, length: 6), "b": "{{ b }}"]
      for _ in 0..<Int.random(in: 0...6, using: &generator) {
        switch Int.random(in: 0..<4, using: &generator) {
        case 0:
          let text = Self.randomText(&generator, length: 5).replacingOccurrences(of: "{", with: "(")
          source += text
          expected += text
        case 1:
          source += "{{ '{{' }}"
          expected += "{{"
        case 2:
          source += "{{ a }}"
          expected += ShellQuoting.quote(known["a"]!)
        default:
          source += "{{ c | raw }}"
          expected += "C"
        }
      }
      let template = try Template(parsing: source)
      // Substituting `a` now and `c` later gives what substituting both at once gives.
      let partial = try Template(parsing: template.partiallyRendered(quoting: true) { $0 == "a" ? known["a"] : nil })
      #expect(partial.render(quoting: true) { $0 == "c" ? "C" : nil } == expected, "\(source.debugDescription)")
    }
  }
}
