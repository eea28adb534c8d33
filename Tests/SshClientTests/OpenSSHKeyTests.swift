import CLibSSH2
import Foundation
import Testing

@testable import SshClient

@Suite("OpenSSH key files, and signing in process")
struct OpenSSHKeyTests {
  /// Makes a key with ssh-keygen; returns its path.
  private func keygen(_ type: String, passphrase: String = "", in directory: String) async throws -> String {
    let path = directory + "/key_\(type)_\(passphrase.isEmpty ? "plain" : "encrypted")"
    try await TestHosts.keygen(type, passphrase: passphrase, at: path)
    return path
  }

  /// `TYPE BASE64\n` of the `.pub` file ssh-keygen wrote (without the comment).
  private func publicLine(_ path: String) throws -> String {
    let text = try String(contentsOfFile: path + ".pub", encoding: .utf8)
    return text.split(separator: " ").prefix(2).joined(separator: " ") + "\n"
  }

  @Test("an Ed25519 key gives its public key and its seed")
  func ed25519() async throws {
    let path = try await keygen("ed25519", in: try TestHosts.temporaryDirectory())
    let key = try #require(OpenSSHKey.parse(file: path))
    #expect(key.type == "ssh-ed25519")
    #expect(key.publicKeyLine == (try publicLine(path)))
    #expect(key.ed25519Seed?.count == 32)
  }

  @Test("other key types give their public key only", arguments: ["rsa", "ecdsa"])
  func otherTypes(type: String) async throws {
    let path = try await keygen(type, in: try TestHosts.temporaryDirectory())
    let key = try #require(OpenSSHKey.parse(file: path))
    #expect(key.publicKeyLine == (try publicLine(path)))
    #expect(key.ed25519Seed == nil)
  }

  @Test("encrypted keys, other formats and damaged files give nothing")
  func unusable() async throws {
    let directory = try TestHosts.temporaryDirectory()
    let encrypted = try await keygen("ed25519", passphrase: "secret phrase", in: directory)
    #expect(OpenSSHKey.parse(file: encrypted) == nil)
    #expect(OpenSSHKey.parse(file: directory + "/missing") == nil)
    #expect(OpenSSHKey.parse(text: "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n") == nil)
    let plain = try String(contentsOfFile: try await keygen("ed25519", in: directory), encoding: .utf8)
    // Cut in the middle of the private section: the public key is still there, the seed is not.
    let lines = plain.split(separator: "\n")
    let truncated = (lines.prefix(3) + [lines.last!]).joined(separator: "\n")
    #expect(OpenSSHKey.parse(text: truncated)?.ed25519Seed == nil)
    #expect(
      OpenSSHKey.parse(text: "-----BEGIN OPENSSH PRIVATE KEY-----\n!!!\n-----END OPENSSH PRIVATE KEY-----") == nil)
  }

  @Test("the signer's signatures verify with the public key, and not for other data")
  func signatures() async throws {
    let path = try await keygen("ed25519", in: try TestHosts.temporaryDirectory())
    let key = try #require(OpenSSHKey.parse(file: path))
    let seed = try #require(key.ed25519Seed)
    let signer = try #require(Ed25519Signer(seed: seed, publicKeyBlob: key.publicKeyBlob))
    var reader = WireReader(bytes: key.publicKeyBlob)
    _ = reader.string()
    let field = reader.string()
    let rawPublic = try #require(field)
    let publicKey = try #require(
      rawPublic.withUnsafeBufferPointer {
        EVP_PKEY_new_raw_public_key(clibssh2_evp_pkey_ed25519(), nil, $0.baseAddress, $0.count)
      })
    defer { EVP_PKEY_free(publicKey) }
    func verifies(_ signature: UnsafeMutablePointer<UInt8>, _ length: Int, _ data: [UInt8]) -> Bool {
      let context = EVP_MD_CTX_new()
      defer { EVP_MD_CTX_free(context) }
      guard EVP_DigestVerifyInit(context, nil, nil, nil, publicKey) == 1 else { return false }
      return EVP_DigestVerify(context, signature, length, data, data.count) == 1
    }
    let data = Array("session id and userauth request".utf8)
    let (signature, length) = try #require(
      data.withUnsafeBufferPointer { signer.sign($0.baseAddress!, count: $0.count) })
    defer { SessionMemory.deallocate(signature) }
    #expect(length == 64)
    #expect(verifies(signature, length, data))
    #expect(!verifies(signature, length, Array("other data".utf8)))
  }

  @Test("concurrent first uses of a key file share one load")
  func sharedLoad() async throws {
    let path = try await keygen("ed25519", in: try TestHosts.temporaryDirectory())
    let signers = await withTaskGroup(of: ObjectIdentifier?.self) { group in
      for _ in 0..<20 { group.addTask { await KeyFileCache.load(privateKey: path).signer.map(ObjectIdentifier.init) } }
      var seen = Set<ObjectIdentifier?>()
      for await signer in group { seen.insert(signer) }
      return seen
    }
    #expect(signers.count == 1)
    #expect(!signers.contains(nil))
  }
}
