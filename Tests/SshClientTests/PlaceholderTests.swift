import Testing
@testable import SshClient

@Test func placeholder() { #expect(1 + 1 == 2) }
