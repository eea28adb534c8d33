import Foundation

/// What authentication uses of an unencrypted `openssh-key-v1` private key file (the format of
/// `ssh-keygen` since OpenSSH 7.8): its public key, and for Ed25519 its private seed.
struct OpenSSHKey: Equatable {
  /// The key type, as in `ssh-ed25519`.
  var type: String
  /// The public key blob (`string type`, then the type's fields).
  var publicKeyBlob: [UInt8]
  /// The 32-byte private seed of an Ed25519 key; nil for other types.
  var ed25519Seed: [UInt8]?

  /// `TYPE BASE64\n`, as in a `.pub` file.
  var publicKeyLine: String { type + " " + Data(publicKeyBlob).base64EncodedString() + "\n" }

  /// The key in the file at `path`; nil when unreadable, encrypted, or in another format.
  static func parse(file path: String) -> OpenSSHKey? {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
    return parse(text: text)
  }

  /// The key in `text`; nil when encrypted, holding several keys, or in another format.
  static func parse(text: String) -> OpenSSHKey? {
    let begin = "-----BEGIN OPENSSH PRIVATE KEY-----"
    let end = "-----END OPENSSH PRIVATE KEY-----"
    guard let start = text.range(of: begin), let stop = text.range(of: end, range: start.upperBound..<text.endIndex)
    else { return nil }
    let body = text[start.upperBound..<stop.lowerBound].filter { !$0.isWhitespace }
    guard let data = Data(base64Encoded: String(body)) else { return nil }
    var reader = WireReader(bytes: [UInt8](data))
    let magic = Array("openssh-key-v1".utf8) + [0]
    guard reader.take(magic.count) == magic,
      let cipher = reader.string(), cipher == Array("none".utf8),
      reader.string() != nil,  // KDF name
      reader.string() != nil,  // KDF options
      reader.uint32() == 1,
      let blob = reader.string()
    else { return nil }
    var blobReader = WireReader(bytes: blob)
    guard let typeBytes = blobReader.string(), !typeBytes.isEmpty, typeBytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
    else { return nil }
    let type = String(decoding: typeBytes, as: UTF8.self)
    var key = OpenSSHKey(type: type, publicKeyBlob: blob, ed25519Seed: nil)
    if type == "ssh-ed25519", let publicKey = blobReader.string(), let section = reader.string() {
      key.ed25519Seed = ed25519Seed(privateSection: section, publicKey: publicKey)
    }
    return key
  }

  /// The seed in the (unencrypted) private section: `uint32 check`, `uint32 check`,
  /// `string "ssh-ed25519"`, `string public key`, `string seed || public key`, `string comment`.
  private static func ed25519Seed(privateSection: [UInt8], publicKey: [UInt8]) -> [UInt8]? {
    var reader = WireReader(bytes: privateSection)
    guard let check1 = reader.uint32(), let check2 = reader.uint32(), check1 == check2,
      reader.string() == Array("ssh-ed25519".utf8),
      let publicAgain = reader.string(), publicAgain == publicKey, publicKey.count == 32,
      let secret = reader.string(), secret.count == 64, Array(secret[32...]) == publicKey
    else { return nil }
    return Array(secret[..<32])
  }
}

/// Reads SSH wire-format fields (RFC 4251: `uint32`, `string`).
struct WireReader {
  let bytes: [UInt8]
  var offset = 0

  init(bytes: [UInt8]) { self.bytes = bytes }

  /// The next `count` bytes, or nil past the end.
  mutating func take(_ count: Int) -> [UInt8]? {
    guard count >= 0, count <= bytes.count - offset else { return nil }
    defer { offset += count }
    return Array(bytes[offset..<offset + count])
  }

  /// A big-endian `uint32`.
  mutating func uint32() -> UInt32? {
    guard let raw = take(4) else { return nil }
    return raw.reduce(0) { $0 << 8 | UInt32($1) }
  }

  /// A `string`: a `uint32` length, then that many bytes.
  mutating func string() -> [UInt8]? {
    guard let length = uint32() else { return nil }
    return take(Int(length))
  }
}
