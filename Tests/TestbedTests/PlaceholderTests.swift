import Testing
@testable import Testbed

@Test func placeholder() { #expect(1 + 1 == 2) }
