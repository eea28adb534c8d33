import Testing
@testable import AsyncJobs

@Test func placeholder() { #expect(1 + 1 == 2) }
