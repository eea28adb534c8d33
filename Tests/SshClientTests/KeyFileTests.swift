import Foundation
import TestSupport
import Testing

@testable import SshClient

#if canImport(Glibc)
  import Glibc
#endif

/// Runs ssh-keygen with `arguments`; throws unless it exits 0.
private func sshKeygen(_ arguments: [String], output: String? = nil) async throws {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
  process.arguments = arguments
  if let output {
    _ = FileManager.default.createFile(atPath: output, contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
  }
  let exited = AsyncStream<Int32> { continuation in
    process.terminationHandler = { process in
      continuation.yield(process.terminationStatus)
      continuation.finish()
    }
  }
  try process.run()
  for await status in exited where status != 0 {
    throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "ssh-keygen exited with \(status)"])
  }
}

/// A key made by ssh-keygen: `-t type`, `-m format` when given, with a passphrase when given.
private func makeKey(_ type: String, format: String? = nil, passphrase: String = "", in directory: String)
  async throws -> String
{
  let path = directory + "/key_\(type)_\(format ?? "openssh")_\(passphrase.isEmpty ? "plain" : "encrypted")"
  try await sshKeygen(
    ["-q", "-t", type, "-N", passphrase, "-C", "test key", "-f", path] + (format.map { ["-m", $0] } ?? []))
  return path
}

private func bytes(of path: String) throws -> [UInt8] {
  [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

@Suite("Key files: what they hold and what is wrong with them")
struct KeyFileTests {
  @Test(
    "OpenSSH private keys are recognised with their type, plain or encrypted",
    arguments: [("ed25519", "ssh-ed25519"), ("rsa", "ssh-rsa"), ("ecdsa", "ecdsa-sha2-nistp256")])
  func openSSHKeys(type: String, name: String) async throws {
    let directory = try TestHosts.temporaryDirectory()
    let plain = try await makeKey(type, in: directory)
    let encrypted = try await makeKey(type, passphrase: "secret phrase", in: directory)
    #expect(KeyFile.classify(try bytes(of: plain)) == .openSSH(type: name, encrypted: false))
    #expect(KeyFile.classify(try bytes(of: encrypted)) == .openSSH(type: name, encrypted: true))
    #expect(KeyFile.problem(of: .openSSH(type: name, encrypted: false), path: plain, passphraseAvailable: false) == nil)
    let problem = KeyFile.problem(
      of: KeyFile.classify(try bytes(of: encrypted)), path: encrypted, passphraseAvailable: false)
    #expect(problem == .encrypted)
    #expect(problem?.description == "encrypted: set APSSH_KEY_PASSPHRASE")
    // With a passphrase, or the agent tried first, an encrypted key may be fine.
    #expect(
      KeyFile.problem(of: .openSSH(type: name, encrypted: true), path: encrypted, passphraseAvailable: true) == nil)
    #expect(
      KeyFile.problem(
        of: .openSSH(type: name, encrypted: true), path: encrypted, passphraseAvailable: false, agentMayHoldIt: true)
        == nil)
  }

  @Test("PEM and PKCS #8 private keys are recognised, plain or encrypted")
  func pemKeys() async throws {
    let directory = try TestHosts.temporaryDirectory()
    let rsa = try await makeKey("rsa", format: "PEM", in: directory)
    let rsaEncrypted = try await makeKey("rsa", format: "PEM", passphrase: "secret phrase", in: directory)
    let ecdsa = try await makeKey("ecdsa", format: "PEM", in: directory)
    let pkcs8 = try await makeKey("rsa", format: "PKCS8", in: directory)
    let pkcs8Encrypted = try await makeKey("ecdsa", format: "PKCS8", passphrase: "secret phrase", in: directory)
    #expect(KeyFile.classify(try bytes(of: rsa)) == .pem(label: "RSA", encrypted: false))
    #expect(KeyFile.classify(try bytes(of: rsaEncrypted)) == .pem(label: "RSA", encrypted: true))
    #expect(KeyFile.classify(try bytes(of: ecdsa)) == .pem(label: "EC", encrypted: false))
    #expect(KeyFile.classify(try bytes(of: pkcs8)) == .pem(label: "", encrypted: false))
    #expect(KeyFile.classify(try bytes(of: pkcs8Encrypted)) == .pem(label: "", encrypted: true))
    #expect(
      KeyFile.problem(of: .pem(label: "RSA", encrypted: true), path: rsa, passphraseAvailable: false) == .encrypted)
  }

  @Test("public keys in every form are told apart from private ones, with a hint for .pub")
  func publicKeys() async throws {
    let directory = try TestHosts.temporaryDirectory()
    let key = try await makeKey("ed25519", in: directory)
    #expect(KeyFile.classify(try bytes(of: key + ".pub")) == .publicKey)
    let rfc4716 = directory + "/rfc4716.pub"
    try await sshKeygen(["-e", "-f", key + ".pub"], output: rfc4716)
    #expect(KeyFile.classify(try bytes(of: rfc4716)) == .publicKey)
    let line = try String(contentsOfFile: key + ".pub", encoding: .utf8)
    let authorized = "# keys\n\nfrom=\"10.0.0.1\",no-pty \(line)"
    #expect(KeyFile.classify(Array(authorized.utf8)) == .publicKey)
    #expect(KeyFile.classify(Array("ecdsa-sha2-nistp256 AAAAE2VjZHNh host\n".utf8)) == .publicKey)
    #expect(KeyFile.classify(Array("-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n".utf8)) == .publicKey)

    let pub = KeyFile.problem(of: .publicKey, path: key + ".pub", passphraseAvailable: false)
    #expect(pub?.description == "not a private key (it is a public key: use the file without .pub)")
    let other = KeyFile.problem(of: .publicKey, path: directory + "/authorized_keys", passphraseAvailable: true)
    #expect(other?.description == "not a private key (it is a public key)")
  }

  @Test("garbage, empty files, PuTTY keys and damaged OpenSSH keys are not private keys")
  func notKeys() async throws {
    let passwd = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    #expect(KeyFile.classify(Array(passwd.utf8)) == .other)
    #expect(KeyFile.classify([]) == .empty)
    #expect(KeyFile.classify(Array(" \n\t\r\n".utf8)) == .empty)
    #expect(KeyFile.classify([0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0, 0, 0]) == .other)
    #expect(KeyFile.classify(Array("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n".utf8)) == .puttyKey)
    #expect(
      KeyFile.classify(Array("-----BEGIN OPENSSH PRIVATE KEY-----\n!!!!\n-----END OPENSSH PRIVATE KEY-----\n".utf8))
        == .damagedOpenSSH)
    #expect(
      KeyFile.classify(Array("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n".utf8))
        == .damagedOpenSSH)
    let messages = [KeyFileKind.other, .empty, .puttyKey, .damagedOpenSSH].map {
      KeyFile.problem(of: $0, path: "/k", passphraseAvailable: true)?.description ?? ""
    }
    #expect(messages[0] == "not an OpenSSH/PEM private key")
    #expect(messages[1] == "not an OpenSSH/PEM private key (the file is empty)")
    #expect(messages.allSatisfy { $0.hasPrefix("not an OpenSSH/PEM private key") })
  }

  @Test("a cut OpenSSH key keeps its header: still recognised, its encryption still told")
  func truncatedOpenSSH() async throws {
    let directory = try TestHosts.temporaryDirectory()
    let encrypted = try String(
      contentsOfFile: try await makeKey("ed25519", passphrase: "x", in: directory), encoding: .utf8)
    let lines = encrypted.split(separator: "\n")
    let cut = lines.prefix(3).joined(separator: "\n")
    #expect(KeyFile.classify(Array(cut.utf8)) == .openSSH(type: "ssh-ed25519", encrypted: true))
  }

  @Test("random bytes never crash the recognition, and are never taken for a private key")
  func randomBytes() {
    var generator = SeededRandom(seed: 12)
    let pieces = [
      "-----BEGIN OPENSSH PRIVATE KEY-----", "-----END OPENSSH PRIVATE KEY-----", "b3BlbnNzaC1rZXktdjEA", "AAAA",
      "ssh-ed25519 ", "\n", "=", "PuTTY-User-Key-File-", "-----BEGIN ",
    ]
    for _ in 0..<2000 {
      var input: [UInt8] = []
      for _ in 0..<Int.random(in: 0...12, using: &generator) {
        if Bool.random(using: &generator) {
          input += Array(pieces.randomElement(using: &generator)!.utf8)
        } else {
          input += (0..<Int.random(in: 1...40, using: &generator)).map { _ in
            UInt8.random(in: 0...255, using: &generator)
          }
        }
      }
      let kind = KeyFile.classify(input)
      if kind.isPrivateKey {
        #expect(String(decoding: input, as: UTF8.self).contains("-----BEGIN OPENSSH PRIVATE KEY-----"))
      }
    }
  }

  @Test("reading says what the system says: missing, a directory, a FIFO, too large, a file on the path")
  func reading() throws {
    let directory = try TestHosts.temporaryDirectory()
    #expect(KeyFile.read(directory + "/missing") == .failure(.noSuchFile))
    #expect(KeyFile.read(directory) == .failure(.isDirectory))
    let file = directory + "/file"
    try Data("text".utf8).write(to: URL(fileURLWithPath: file))
    #expect(KeyFile.read(file + "/below") == .failure(.noSuchFile))
    #expect(KeyFile.read(file) == .success(Array("text".utf8)))
    let fifo = directory + "/fifo"
    #expect(mkfifo(fifo, 0o600) == 0)
    // Refused without waiting for a writer.
    #expect(KeyFile.read(fifo) == .failure(.notRegularFile))
    let large = directory + "/large"
    #expect(FileManager.default.createFile(atPath: large, contents: nil))
    #expect(truncate(large, off_t(KeyFile.sizeLimit + 1)) == 0)
    #expect(KeyFile.read(large) == .failure(.notPrivateKey(detail: "larger than 1 MiB")))
    #expect(KeyFile.read("/dev/null") == .failure(.notRegularFile))
  }

  @Test("errno values become the right problems; a system error is never 'encrypted'")
  func errnoProblems() {
    #expect(KeyFile.problem(errno: ENOENT).description == "no such file")
    #expect(KeyFile.problem(errno: EACCES).description == "permission denied")
    #expect(KeyFile.problem(errno: EISDIR).description == "is a directory")
    #expect(KeyFile.problem(errno: EMFILE) == .systemError(EMFILE))
    #expect(KeyFile.problem(errno: EMFILE).description == "cannot be read: Too many open files")
    #expect(KeyFile.problem(errno: EMFILE).isSystemError)
    #expect(!KeyFile.problem(errno: ENOENT).isSystemError)
  }

  @Test("libssh2's file errors at connection time: the system's reason, a wrong passphrase, or its message")
  func connectionTimeFileFailures() {
    let plain = KeyFileKind.openSSH(type: "ssh-rsa", encrypted: false)
    let encrypted = KeyFileKind.openSSH(type: "ssh-rsa", encrypted: true)
    let emfile = SshConnection.fileFailure(kind: plain, systemError: EMFILE, libssh2Message: "Unable to open")
    #expect(emfile == "cannot be read: Too many open files")
    #expect(
      SshConnection.fileFailure(kind: encrypted, systemError: ENFILE, libssh2Message: "x")
        == "cannot be read: Too many open files in system")
    #expect(
      SshConnection.fileFailure(kind: encrypted, systemError: 0, libssh2Message: "x")
        == "cannot be decrypted: wrong passphrase?")
    let other = SshConnection.fileFailure(kind: plain, systemError: EAGAIN, libssh2Message: "Invalid key data")
    #expect(other == "libssh2 cannot load it: Invalid key data")
    #expect(!other.contains("encrypted") && !emfile.contains("encrypted"))
  }

  @Test("the cache says what each file is, keeps what it read, and gives Ed25519 keys a signer")
  func cache() async throws {
    let directory = try TestHosts.temporaryDirectory()
    let plain = try await makeKey("ed25519", in: directory)
    let encrypted = try await makeKey("ed25519", passphrase: "x", in: directory)
    let loadedPlain = await KeyFileCache.load(privateKey: plain)
    #expect(loadedPlain.kind == .success(.openSSH(type: "ssh-ed25519", encrypted: false)))
    #expect(loadedPlain.signer != nil && loadedPlain.publicKeyPath != nil)
    let loadedEncrypted = await KeyFileCache.load(privateKey: encrypted)
    #expect(loadedEncrypted.kind == .success(.openSSH(type: "ssh-ed25519", encrypted: true)))
    #expect(loadedEncrypted.signer == nil)
    #expect(await KeyFileCache.load(privateKey: plain + ".pub").kind == .success(.publicKey))
    #expect(await KeyFileCache.load(privateKey: directory).kind == .failure(.isDirectory))
    #expect(await KeyFileCache.load(privateKey: directory + "/missing").kind == .failure(.noSuchFile))
  }

  @Test("check reads and judges a file in one go")
  func check() async throws {
    let directory = try TestHosts.temporaryDirectory()
    let plain = try await makeKey("ed25519", in: directory)
    #expect(await KeyFile.check(plain, passphraseAvailable: false) == nil)
    #expect(await KeyFile.check(plain + ".pub", passphraseAvailable: false) == .publicKey(hasPubSuffix: true))
    #expect(await KeyFile.check("/etc/passwd", passphraseAvailable: false) == .notPrivateKey(detail: nil))
    #expect(await KeyFile.check(directory, passphraseAvailable: false) == .isDirectory)
  }
}
