import CLibSSH2

/// An Ed25519 private key imported into OpenSSL once, that signs for
/// `libssh2_userauth_publickey` in process.
///
/// Given a key file, libssh2 1.10 reads, decodes and imports the private key again for every
/// connection (OpenSSL 3's key import alone was 6.5% of the client's CPU in a fan-out). An
/// unencrypted Ed25519 key is imported here once per process and shared by every connection:
/// OpenSSL keys may sign from several threads at once, each signature with its own context.
final class Ed25519Signer: @unchecked Sendable {
  /// The public key blob (`string "ssh-ed25519"`, `string key`), as libssh2 sends it.
  let publicKeyBlob: [UInt8]
  private let key: OpaquePointer
  /// What libssh2 hands back to ``callback`` as its `abstract` argument: this signer.
  let abstract: UnsafeMutablePointer<UnsafeMutableRawPointer?>

  /// Imports the 32-byte seed of an Ed25519 key; nil if OpenSSL refuses it.
  init?(seed: [UInt8], publicKeyBlob: [UInt8]) {
    guard seed.count == 32,
      let key = seed.withUnsafeBufferPointer({
        EVP_PKEY_new_raw_private_key(clibssh2_evp_pkey_ed25519(), nil, $0.baseAddress, $0.count)
      })
    else { return nil }
    self.key = key
    self.publicKeyBlob = publicKeyBlob
    abstract = .allocate(capacity: 1)
    abstract.initialize(to: nil)
    abstract.pointee = Unmanaged.passUnretained(self).toOpaque()
  }

  deinit {
    EVP_PKEY_free(key)
    abstract.deallocate()
  }

  /// The raw 64-byte signature of `data`, in a block of ``SessionMemory`` (libssh2 frees it).
  func sign(_ data: UnsafePointer<UInt8>, count: Int) -> (UnsafeMutablePointer<UInt8>, Int)? {
    guard let context = EVP_MD_CTX_new() else { return nil }
    defer { EVP_MD_CTX_free(context) }
    guard EVP_DigestSignInit(context, nil, nil, nil, key) == 1 else { return nil }
    var length = 0
    guard EVP_DigestSign(context, nil, &length, data, count) == 1, length > 0,
      let signature = SessionMemory.allocate(length)?.assumingMemoryBound(to: UInt8.self)
    else { return nil }
    guard EVP_DigestSign(context, signature, &length, data, count) == 1 else {
      SessionMemory.deallocate(signature)
      return nil
    }
    return (signature, length)
  }

  /// `LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC`: signs with the signer in `abstract`.
  static let callback:
    @convention(c) (
      OpaquePointer?, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?, UnsafeMutablePointer<Int>?,
      UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<UnsafeMutableRawPointer?>?
    ) -> Int32 = { _, signature, signatureLength, data, dataLength, abstract in
      guard let signature, let signatureLength, let data, let opaque = abstract?.pointee else { return -1 }
      let signer = Unmanaged<Ed25519Signer>.fromOpaque(opaque).takeUnretainedValue()
      guard let (bytes, count) = signer.sign(data, count: dataLength) else { return -1 }
      signature.pointee = bytes
      signatureLength.pointee = count
      return 0
    }
}
