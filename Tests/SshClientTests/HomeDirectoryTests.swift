import Foundation
import Testing

@testable import SshClient

@Suite("The home directory: $HOME first, then the passwd entry")
struct HomeDirectoryTests {
  @Test("a leading ~ is the home; ~user is that user's; other paths are left alone")
  func tilde() {
    let home = HomeDirectory.path
    #expect(home == (ProcessInfo.processInfo.environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home))
    #expect(HomeDirectory.expandingTilde(in: "~") == home)
    #expect(HomeDirectory.expandingTilde(in: "~/.ssh/id_ed25519") == home + "/.ssh/id_ed25519")
    #expect(HomeDirectory.expandingTilde(in: "~root/.ssh/id_ed25519") == "/root/.ssh/id_ed25519")
    #expect(HomeDirectory.expandingTilde(in: "~no_such_user_zz/x") == "~no_such_user_zz/x")
    #expect(HomeDirectory.expandingTilde(in: "/abs/~/x") == "/abs/~/x")
    #expect(HomeDirectory.expandingTilde(in: "rel/x") == "rel/x")
    #expect(SshConfiguration.defaultKnownHostsPath == home + "/.ssh/known_hosts")
    #expect(SshConfiguration(host: "h", keyPaths: ["~/k"]).keyPaths == [home + "/k"])
  }
}
