import Foundation
import Testing

@testable import SshJobs

/// Makes an ed25519 key pair at `path` (and `path.pub`), with a passphrase when given.
private func keygen(_ path: String, passphrase: String = "") async throws {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
  process.arguments = ["-q", "-t", "ed25519", "-N", passphrase, "-C", "test", "-f", path]
  let exited = AsyncStream<Int32> { continuation in
    process.terminationHandler = { process in
      continuation.yield(process.terminationStatus)
      continuation.finish()
    }
  }
  try process.run()
  for await status in exited { #expect(status == 0) }
}

@Suite("Key files of a run, checked before connecting")
struct KeyFileCheckTests {
  @Test("each -k file is checked once and named with what is wrong with it")
  func settingsKeys() async throws {
    let directory = try Fleet.temporaryDirectory()
    let good = directory + "/id_ed25519"
    try await keygen(good)
    let settings = RunSettings(keys: [
      good, good + ".pub", directory, directory + "/missing", "/etc/passwd", good + ".pub",
    ])
    let errors = await settings.checkKeyFiles(
      nodes: [.ssh("h1"), .ssh("h2")], passphraseAvailable: false, agentAvailable: false)
    #expect(errors.map(\.path) == [good + ".pub", directory, directory + "/missing", "/etc/passwd"])
    #expect(
      errors.map(\.description) == [
        "-k \(good).pub: not a private key (it is a public key: use the file without .pub)",
        "-k \(directory): is a directory",
        "-k \(directory)/missing: no such file",
        "-k /etc/passwd: not an OpenSSH/PEM private key",
      ])
  }

  @Test("nodes' own keys (gateways' too) are checked, named with the nodes that use them, ~ expanded")
  func nodeKeys() async throws {
    let directory = try Fleet.temporaryDirectory()
    let missing = directory + "/missing_key"
    let gateway = NodeSpec.ssh("gw", keys: [directory])
    let nodes: [NodeSpec] = [
      .ssh("h1", keys: [missing]), .ssh("h2", user: "u", keys: [missing], gateway: gateway), .ssh("h3"),
      .ssh("h4", keys: ["~/no_such_key_zz"]), .local,
    ]
    let errors = await RunSettings().checkKeyFiles(nodes: nodes, passphraseAvailable: false, agentAvailable: false)
    #expect(errors.count == 3, "\(errors)")
    #expect(errors.first { $0.path == missing }?.origin == .nodes(["h1", "gw->u@h2"]))
    #expect(errors.first { $0.path == missing }?.description == "key \(missing) (of h1, gw->u@h2): no such file")
    #expect(errors.first { $0.path == directory }?.problem == .isDirectory)
    #expect(errors.contains { $0.path == HomeDirectory.path + "/no_such_key_zz" && $0.problem == .noSuchFile })
  }

  @Test("an encrypted key needs a passphrase, unless the agent is tried first (no -k) and may hold it")
  func encryptedKeys() async throws {
    let directory = try Fleet.temporaryDirectory()
    let encrypted = directory + "/encrypted"
    try await keygen(encrypted, passphrase: "secret")
    let node = NodeSpec.ssh("h", keys: [encrypted])
    let none = await RunSettings().checkKeyFiles(nodes: [node], passphraseAvailable: false, agentAvailable: false)
    #expect(none.map(\.description) == ["key \(encrypted) (of h): encrypted: set APSSH_KEY_PASSPHRASE"])
    #expect(await RunSettings().checkKeyFiles(nodes: [node], passphraseAvailable: false, agentAvailable: true).isEmpty)
    #expect(await RunSettings().checkKeyFiles(nodes: [node], passphraseAvailable: true, agentAvailable: false).isEmpty)
    let withK = await RunSettings(keys: [encrypted]).checkKeyFiles(
      nodes: [.ssh("h")], passphraseAvailable: false, agentAvailable: true)
    #expect(withK.map(\.problem) == [.encrypted])
  }
}
