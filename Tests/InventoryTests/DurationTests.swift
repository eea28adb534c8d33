import Testing

@testable import Inventory

@Suite struct DurationTests {
  @Test func spellings() throws {
    #expect(try DurationParser.parse("30") == .seconds(30))
    #expect(try DurationParser.parse("1.5") == .milliseconds(1500))
    #expect(try DurationParser.parse("1.5s") == .milliseconds(1500))
    #expect(try DurationParser.parse("200ms") == .milliseconds(200))
    #expect(try DurationParser.parse("2m") == .seconds(120))
    #expect(try DurationParser.parse("1h") == .seconds(3600))
    #expect(try DurationParser.parse("1m30s") == .seconds(90))
    #expect(Duration(parsing: "250us") == .microseconds(250))
    #expect(Duration.seconds(90).inSeconds == 90)
  }

  @Test(arguments: ["", "abc", "-1", "5x", "1.2.3s", "s"])
  func errors(text: String) throws {
    let error = try #require(throws: InventoryError.self) { try DurationParser.parse(text) }
    #expect(error.code == .badDuration)
  }
}
