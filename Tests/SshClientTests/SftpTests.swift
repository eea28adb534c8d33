import Foundation
import SshClient
import Synchronization
import Testbed
import Testing

@Suite("SFTP on testbed hosts")
struct SftpTests {
  @Test("a 20 MB file goes there and back byte-identical")
  func fileRoundTrip() async throws {
    let testbed = try await TestHosts.testbed()
    let connection = TestHosts.connection(testbed, host: 13)
    let directory = try TestHosts.temporaryDirectory()
    let original = directory + "/big.bin"
    try TestHosts.writeRandomFile(original, bytes: 20_000_000)
    let remote = "apssh-sftp-test-\(UUID().uuidString).bin"
    let sent = try await connection.put([original], to: remote)
    #expect(sent == 20_000_000)
    #expect(try await connection.stat(remote)?.size == 20_000_000)
    let back = directory + "/back.bin"
    let received = try await connection.get([remote], to: back)
    #expect(received == 20_000_000)
    #expect(try TestHosts.sameContents(original, back))
    _ = try await connection.run("rm -f \(remote)")
    await connection.close()
  }

  @Test("a directory tree goes there and back with its modes")
  func treeRoundTrip() async throws {
    let testbed = try await TestHosts.testbed()
    let connection = TestHosts.connection(testbed, host: 14)
    let directory = try TestHosts.temporaryDirectory()
    let tree = directory + "/tree"
    let files = ["a.txt": "alpha\n", "sub/b.txt": "beta\n", "sub/deeper/c.sh": "#!/bin/sh\necho c\n"]
    for (path, text) in files {
      let full = tree + "/" + path
      try FileManager.default.createDirectory(
        atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try text.write(toFile: full, atomically: true, encoding: .utf8)
    }
    chmod(tree + "/sub/deeper/c.sh", 0o750)
    let remote = "apssh-tree-\(UUID().uuidString)"
    try await connection.makeDirectory(remote)
    try await connection.put([tree], to: remote, recursive: true, preserve: true)
    #expect(try await connection.stat(remote + "/tree/sub/deeper/c.sh")?.permissions == 0o750)
    let ran = try await connection.run("sh \(remote)/tree/sub/deeper/c.sh")
    #expect(ran.stdoutText == "c\n")
    let back = directory + "/back"
    try await connection.get([remote + "/tree"], to: back, recursive: true, preserve: true)
    for (path, text) in files {
      #expect(try String(contentsOfFile: back + "/" + path, encoding: .utf8) == text)
    }
    let attributes = try FileManager.default.attributesOfItem(atPath: back + "/sub/deeper/c.sh")
    #expect((attributes[.posixPermissions] as? Int) == 0o750)
    _ = try await connection.run("rm -rf \(remote)")
    await connection.close()
  }

  @Test("SFTP across more reconnections than there are session slots")
  func sftpAcrossReconnections() async throws {
    let testbed = try await TestHosts.testbed()
    let connection = TestHosts.connection(testbed, host: 12)
    // Each opening of SFTP takes one of the 10 session slots: closing must give it back.
    for _ in 0..<12 {
      #expect(try await connection.stat(".")?.isDirectory == true)
      await connection.close()
    }
    let outputs = try await withThrowingTaskGroup(of: String.self) { group in
      for index in 0..<10 { group.addTask { try await connection.run("echo \(index)").stdoutText } }
      var outputs: Set<String> = []
      for try await output in group { outputs.insert(output) }
      return outputs
    }
    #expect(outputs.count == 10)
    #expect(await connection.connectionCount == 13)
    await connection.close()
  }

  @Test("writeFile sets the mode; mkdir -p is idempotent; stat of a missing path is nil")
  func smallOperations() async throws {
    let testbed = try await TestHosts.testbed()
    let connection = TestHosts.connection(testbed, host: 15)
    let base = "apssh-small-\(UUID().uuidString)"
    try await connection.makeDirectory(base + "/x/y/z")
    try await connection.makeDirectory(base + "/x/y/z")
    #expect(try await connection.stat(base + "/x/y/z")?.isDirectory == true)
    try await connection.writeFile("echo hi\n", to: base + "/x/script.sh", mode: 0o700)
    let info = try await connection.stat(base + "/x/script.sh")
    #expect(info?.permissions == 0o700)
    #expect(info?.size == 8)
    #expect(try await connection.stat(base + "/missing") == nil)
    await #expect {
      _ = try await connection.get([base + "/missing"], to: NSTemporaryDirectory() + "/nothing")
    } throws: { error in
      if case .sftp = (error as? SshError)?.code { return true }
      return false
    }
    _ = try await connection.run("rm -rf \(base)")
    await connection.close()
  }

  @Test("remove deletes a tree without following its symbolic links; a missing path is fine")
  func removeTree() async throws {
    let testbed = try await TestHosts.testbed()
    let connection = TestHosts.connection(testbed, host: 12)
    let base = "apssh-remove-\(UUID().uuidString)"
    let setup = try await connection.run(
      "mkdir -p \(base)/tree/sub \(base)/outside && echo keep > \(base)/outside/keep.txt"
        + " && echo x > \(base)/tree/sub/x && ln -s ../../outside \(base)/tree/sub/out && ln -s nowhere \(base)/tree/dead"
    )
    #expect(setup.status == .code(0))
    try await connection.remove(base + "/tree", recursive: true)
    #expect(try await connection.stat(base + "/tree") == nil)
    #expect(try await connection.stat(base + "/outside/keep.txt")?.size == 5, "the link's target stays")
    try await connection.remove(base + "/tree", recursive: true)
    await #expect(throws: SshError.self) { try await connection.remove(base + "/outside") }
    try await connection.remove(base + "/outside/keep.txt")
    #expect(try await connection.stat(base + "/outside/keep.txt") == nil)
    _ = try await connection.run("rm -rf \(base)")
    await connection.close()
  }

  @Test("symbolic link loops are skipped both ways, with a warning each, and the rest is copied")
  func loopsInTrees() async throws {
    let testbed = try await TestHosts.testbed()
    let connection = TestHosts.connection(testbed, host: 12)
    let directory = try TestHosts.temporaryDirectory()
    let tree = directory + "/tree"
    try FileManager.default.createDirectory(atPath: tree + "/a", withIntermediateDirectories: true)
    try "f\n".write(toFile: tree + "/a/f.txt", atomically: true, encoding: .utf8)
    try FileManager.default.createSymbolicLink(atPath: tree + "/a/loop", withDestinationPath: "..")
    let warnings = Warnings()
    let base = "apssh-loops-\(UUID().uuidString)"
    try await connection.makeDirectory(base)
    try await connection.put([tree], to: base, recursive: true, warnings: { warnings.add($0) })
    #expect(warnings.all == ["\(tree)/a/loop: directory loop (the same directory as \(tree)), not copied"])
    #expect(try await connection.stat(base + "/tree/a/f.txt")?.size == 2)
    #expect(try await connection.stat(base + "/tree/a/loop") == nil)
    // The same loop on the server side, pulled back.
    let link = try await connection.run("ln -s .. \(base)/tree/a/loop")
    #expect(link.status == .code(0))
    let back = Warnings()
    try await connection.get([base + "/tree"], to: directory + "/back", recursive: true, warnings: { back.add($0) })
    #expect(back.all == ["\(base)/tree/a/loop: directory loop (a symbolic link back to \(base)/tree), not copied"])
    #expect(try String(contentsOfFile: directory + "/back/a/f.txt", encoding: .utf8) == "f\n")
    #expect(!FileManager.default.fileExists(atPath: directory + "/back/a/loop"))
    try await connection.remove(base, recursive: true)
    await connection.close()
  }
}

/// Warnings collected from a transfer.
final class Warnings: Sendable {
  private let lines = Mutex<[String]>([])
  func add(_ line: String) { lines.withLock { $0.append(line) } }
  var all: [String] { lines.withLock { $0 } }
}
