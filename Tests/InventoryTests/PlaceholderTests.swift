import Testing
@testable import Inventory

@Test func placeholder() { #expect(1 + 1 == 2) }
