import CLibSSH2

#if canImport(Glibc)
  import Glibc
#endif

/// A client of the ssh-agent (`SSH_AUTH_SOCK`) that never blocks a thread.
///
/// libssh2 1.10 talks to the agent on a blocking socket through the session's own socket
/// callbacks: a stuck agent blocked a cooperative thread for good (two Ctrl-C did nothing), and
/// bytes queued for the server could go to the agent. Here the agent socket is non-blocking and
/// awaited through the ``Reactor`` within a deadline, so cancelling the connection cuts an agent
/// exchange at once; libssh2 only gets the identities' public keys and a sign callback
/// (``AgentSigner``) that answers `EAGAIN` until the agent's signature is there.
///
/// The protocol: `uint32` length-prefixed messages; `REQUEST_IDENTITIES` (11) →
/// `IDENTITIES_ANSWER` (12) `uint32 n, (string blob, string comment)*`; `SIGN_REQUEST` (13)
/// `string blob, string data, uint32 flags` → `SIGN_RESPONSE` (14) `string signature`; `FAILURE` (5).
final class AgentConnection: @unchecked Sendable {
  /// An identity the agent holds.
  struct Identity {
    /// The public key blob.
    var blob: [UInt8]
    /// Its comment (usually the key file).
    var comment: String
  }

  /// Why the agent could not be used.
  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  /// The agent's socket (non-blocking, registered with the reactor).
  let fd: Int32
  private var outgoing: [UInt8] = []
  private var incoming: [UInt8] = []

  private init(fd: Int32) { self.fd = fd }

  /// Connects to the agent socket at `path` without blocking.
  static func open(path: String) throws -> AgentConnection {
    let fd = socket(
      AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw Failure(description: "cannot make a socket: \(String(cString: strerror(errno)))") }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
      Glibc.close(fd)
      throw Failure(description: "SSH_AUTH_SOCK is too long")
    }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      raw.copyBytes(from: bytes)
      raw[bytes.count] = 0
    }
    let rc = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    // A Unix socket connects at once or not at all (EAGAIN: its backlog is full).
    guard rc == 0 else {
      let reason = String(cString: strerror(errno))
      Glibc.close(fd)
      throw Failure(description: "cannot connect to SSH_AUTH_SOCK (\(reason))")
    }
    do {
      try Reactor.shared.register(fd: fd)
    } catch {
      Glibc.close(fd)
      throw Failure(description: "\(error)")
    }
    return AgentConnection(fd: fd)
  }

  /// Closes the socket.
  func close() {
    Reactor.shared.deregister(fd: fd)
    Glibc.close(fd)
  }

  // MARK: - Messages

  /// Queues a message (its length prefix added).
  func send(_ message: [UInt8]) {
    outgoing += Self.uint32(message.count) + message
  }

  /// Makes what progress the socket allows: sends queued bytes, reads what came. Returns the
  /// next whole message when there is one, else what to wait for.
  func step() throws -> (message: [UInt8]?, waitFor: Reactor.Interest) {
    while !outgoing.isEmpty {
      let sent = outgoing.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      if sent < 0 {
        if errno == EINTR { continue }
        if errno == EAGAIN || errno == EWOULDBLOCK { return (nil, .writable) }
        throw Failure(description: "the agent went away (\(String(cString: strerror(errno))))")
      }
      outgoing.removeFirst(sent)
    }
    var buffer = [UInt8](repeating: 0, count: 16 * 1024)
    while true {
      if let message = takeMessage() { return (message, []) }
      let count = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
      if count < 0 {
        if errno == EINTR { continue }
        if errno == EAGAIN || errno == EWOULDBLOCK { return (nil, .readable) }
        throw Failure(description: "the agent went away (\(String(cString: strerror(errno))))")
      }
      if count == 0 { throw Failure(description: "the agent closed the connection") }
      incoming += buffer[0..<count]
    }
  }

  private func takeMessage() -> [UInt8]? {
    guard incoming.count >= 4 else { return nil }
    let length = incoming[0..<4].reduce(0) { $0 << 8 | Int($1) }
    guard incoming.count >= 4 + length else { return nil }
    let message = Array(incoming[4..<(4 + length)])
    incoming.removeFirst(4 + length)
    return message
  }

  /// Sends `message` and waits for the answer, at most until `deadline`.
  func exchange(_ message: [UInt8], deadline: ContinuousClock.Instant) async throws -> [UInt8] {
    send(message)
    while true {
      let (answer, interest) = try step()
      if let answer { return answer }
      let generation = Reactor.shared.generation(of: fd)
      if case .timedOut = try await Reactor.shared.wait(
        fd: fd, for: interest, generation: generation, deadline: deadline)
      {
        throw Failure(description: "no answer from the agent in time")
      }
    }
  }

  /// The identities the agent holds.
  func identities(deadline: ContinuousClock.Instant) async throws -> [Identity] {
    var reader = Reader(try await exchange([11], deadline: deadline))
    guard reader.byte() == 12, let count = reader.uint32() else {
      throw Failure(description: "the agent did not list its identities")
    }
    var identities: [Identity] = []
    for _ in 0..<min(count, 1000) {
      guard let blob = reader.string(), let comment = reader.string() else { break }
      identities.append(Identity(blob: blob, comment: String(decoding: comment, as: UTF8.self)))
    }
    return identities
  }

  static func uint32(_ value: Int) -> [UInt8] {
    [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
  }

  static func string(_ bytes: [UInt8]) -> [UInt8] { uint32(bytes.count) + bytes }

  /// Reads the fields of an agent message.
  struct Reader {
    private let bytes: [UInt8]
    private var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func byte() -> UInt8? {
      guard offset < bytes.count else { return nil }
      defer { offset += 1 }
      return bytes[offset]
    }

    mutating func uint32() -> Int? {
      guard offset + 4 <= bytes.count else { return nil }
      defer { offset += 4 }
      return bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
    }

    mutating func string() -> [UInt8]? {
      guard let length = uint32(), offset + length <= bytes.count else { return nil }
      defer { offset += length }
      return Array(bytes[offset..<(offset + length)])
    }
  }
}

/// The sign callback of one identity of the agent, for `libssh2_userauth_publickey`: the first
/// call sends the sign request and answers `EAGAIN`; later calls (libssh2 calls again with the
/// same data) make progress on the agent socket, and give the signature once it is there. The
/// connection waits on the agent socket meanwhile (``wait``), within ``deadline``.
final class AgentSigner: @unchecked Sendable {
  private enum State {
    case idle
    case waiting
    case failed
  }
  let agent: AgentConnection
  let identity: AgentConnection.Identity
  /// When the agent must have answered.
  let deadline: ContinuousClock.Instant
  private var state = State.idle
  /// What the agent socket must become before the next call, after an `EAGAIN`.
  var wait: Reactor.Interest?
  /// What libssh2 hands back to ``callback`` as its `abstract` argument: this signer.
  let abstract: UnsafeMutablePointer<UnsafeMutableRawPointer?>
  /// The public key blob, at an address that stays valid across libssh2's calls.
  let blob: UnsafeMutableBufferPointer<UInt8>

  init(agent: AgentConnection, identity: AgentConnection.Identity, deadline: ContinuousClock.Instant) {
    self.agent = agent
    self.identity = identity
    self.deadline = deadline
    abstract = .allocate(capacity: 1)
    abstract.initialize(to: nil)
    blob = .allocate(capacity: identity.blob.count)
    _ = blob.initialize(from: identity.blob)
    abstract.pointee = Unmanaged.passUnretained(self).toOpaque()
  }

  deinit {
    abstract.deallocate()
    blob.deallocate()
  }

  /// The agent did not answer in time: the next call fails, so that libssh2 leaves this key.
  func giveUp() { state = .failed }

  /// Whether the signer gave up.
  var gaveUp: Bool {
    if case .failed = state { return true }
    return false
  }

  /// One step of signing `data`: the signature (raw, without its algorithm name), nil to wait.
  func step(_ data: UnsafePointer<UInt8>, count: Int) throws -> [UInt8]? {
    switch state {
    case .failed:
      throw AgentConnection.Failure(description: "no signature from the agent in time")
    case .idle:
      let request =
        [13] + AgentConnection.string(identity.blob)
        + AgentConnection.string(Array(UnsafeBufferPointer(start: data, count: count))) + AgentConnection.uint32(0)
      agent.send(request)
      state = .waiting
      fallthrough
    case .waiting:
      let (answer, interest) = try agent.step()
      guard let answer else {
        wait = interest
        return nil
      }
      state = .idle
      var reader = AgentConnection.Reader(answer)
      guard reader.byte() == 14, let blob = reader.string() else {
        throw AgentConnection.Failure(description: "the agent refused to sign")
      }
      var signature = AgentConnection.Reader(blob)
      guard signature.string() != nil, let raw = signature.string() else {
        throw AgentConnection.Failure(description: "the agent's signature is malformed")
      }
      return raw
    }
  }

  /// `LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC` over ``step(_:count:)``.
  static let callback:
    @convention(c) (
      OpaquePointer?, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?, UnsafeMutablePointer<Int>?,
      UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<UnsafeMutableRawPointer?>?
    ) -> Int32 = { _, signature, signatureLength, data, dataLength, abstract in
      guard let signature, let signatureLength, let data, let opaque = abstract?.pointee else { return -1 }
      let signer = Unmanaged<AgentSigner>.fromOpaque(opaque).takeUnretainedValue()
      do {
        guard let raw = try signer.step(data, count: dataLength) else { return LIBSSH2_ERROR_EAGAIN }
        guard let block = SessionMemory.allocate(raw.count)?.assumingMemoryBound(to: UInt8.self) else { return -1 }
        raw.withUnsafeBufferPointer { block.update(from: $0.baseAddress!, count: raw.count) }
        signature.pointee = block
        signatureLength.pointee = raw.count
        return 0
      } catch {
        signer.giveUp()
        return -1
      }
    }
}
