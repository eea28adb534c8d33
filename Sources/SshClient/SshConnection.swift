import CLibSSH2
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// What the socket callbacks of a session keep: the bytes read, and the bytes libssh2 sent that
/// the socket did not take yet.
///
/// libssh2 1.10 cannot be trusted with a short send. It keeps the rest of the packet and wants the
/// very same call again, with the same buffer address, before any other packet; but it builds some
/// packets on the stack (channel EOF, keepalive), so a retry from another thread's stack fails with
/// `LIBSSH2_ERROR_BAD_USE`, and the next packet of any channel with "Unable to send channel-open
/// request"; and a short send in `send_existing()` does not say that it waits to send (libssh2
/// issue #1945), so the caller waits to read while the server waits for the rest of the packet.
/// So the send callback always takes every byte: what the socket does not accept waits here, in
/// order, and ``SshConnection`` flushes it before it calls libssh2 again and before an operation
/// ends.
struct SessionIO {
  /// Bytes libssh2 has read from the socket: any byte read may belong to another channel's
  /// packet, so the other waiters of the session must be woken.
  var received: UInt64 = 0
  /// Bytes sent by libssh2 and not taken by the socket yet.
  var pending: UnsafeMutablePointer<UInt8>?
  var pendingCount = 0
  var pendingCapacity = 0
  /// The first error of the socket while flushing (an `errno`), 0 if none.
  var sendError: Int32 = 0
  /// How many sends the socket did not take whole (for tests).
  var shortSends: UInt64 = 0

  /// Queues `count` bytes after those already pending.
  mutating func queue(_ bytes: UnsafeRawPointer, _ count: Int) {
    guard count > 0 else { return }
    if pendingCount + count > pendingCapacity {
      let capacity = max(pendingCapacity * 2, pendingCount + count, 16 * 1024)
      guard let grown = realloc(pending, capacity) else { fatalError("out of memory queueing \(count) bytes") }
      pending = grown.assumingMemoryBound(to: UInt8.self)
      pendingCapacity = capacity
    }
    memcpy(pending! + pendingCount, bytes, count)
    pendingCount += count
  }

  /// Sends what the socket takes of the pending bytes; false on a socket error (in `sendError`).
  mutating func flush(_ socket: Int32) -> Bool {
    while pendingCount > 0 {
      let sent = Glibc.send(socket, pending, pendingCount, Int32(MSG_NOSIGNAL))
      if sent < 0 {
        if errno == EINTR { continue }
        if errno == EAGAIN || errno == EWOULDBLOCK { return true }
        sendError = errno
        return false
      }
      pendingCount -= sent
      if pendingCount > 0 { memmove(pending!, pending! + sent, pendingCount) }
    }
    // A queue grown by a transfer is not kept by an idle connection.
    if pendingCapacity > 64 * 1024 {
      free(pending)
      pending = nil
      pendingCapacity = 0
    }
    return true
  }

  /// Frees the queue (the connection is gone).
  mutating func reset() {
    free(pending)
    self = SessionIO()
  }
}

private let countingRecv:
  @convention(c) (
    libssh2_socket_t, UnsafeMutableRawPointer?, Int, Int32, UnsafeMutablePointer<UnsafeMutableRawPointer?>?
  ) -> Int = { socket, buffer, length, flags, abstract in
    let received = recv(socket, buffer, length, flags)
    if received < 0 { return -Int(errno) }
    if received > 0, let io = abstract?.pointee?.assumingMemoryBound(to: SessionIO.self) {
      io.pointee.received &+= UInt64(received)
    }
    return received
  }

/// Takes every byte (see ``SessionIO``): what the socket does not accept now is queued.
private let queueingSend:
  @convention(c) (
    libssh2_socket_t, UnsafeRawPointer?, Int, Int32, UnsafeMutablePointer<UnsafeMutableRawPointer?>?
  ) -> Int = { socket, buffer, length, flags, abstract in
    guard let buffer, let io = abstract?.pointee?.assumingMemoryBound(to: SessionIO.self) else { return -Int(EINVAL) }
    if io.pointee.sendError != 0 { return -Int(io.pointee.sendError) }
    // Bytes already waiting go first.
    if io.pointee.pendingCount > 0 && !io.pointee.flush(socket) { return -Int(io.pointee.sendError) }
    var sent = 0
    if io.pointee.pendingCount == 0 {
      while true {
        let rc = send(socket, buffer, length, flags)
        if rc >= 0 {
          sent = rc
          break
        }
        if errno == EINTR { continue }
        if errno == EAGAIN || errno == EWOULDBLOCK { break }
        io.pointee.sendError = errno
        return -Int(errno)
      }
    }
    if sent < length {
      io.pointee.shortSends &+= 1
      io.pointee.queue(buffer + sent, length - sent)
    }
    return length
  }

/// One SSH connection to one host, owning its libssh2 session and socket.
///
/// Every libssh2 call for the session runs inside this actor, in non-blocking mode. When a call
/// would block, the caller awaits readiness of the socket (in the directions libssh2 asks for)
/// from the shared ``Reactor``; any progress on the session wakes every other waiter. Channels
/// (commands, SFTP, tunnels) opened on the connection run concurrently; channel opens are
/// serialised, and no more than ``SshConfiguration/maxSessions`` session channels are open at
/// once (more are queued). The connection opens lazily and can be reopened after ``close()``.
public actor SshConnection {
  /// What this connection connects to.
  public nonisolated let configuration: SshConfiguration
  /// The connection through which this one is tunnelled (a jump host), if any.
  public nonisolated let gateway: SshConnection?

  nonisolated(unsafe) var session: OpaquePointer?
  var fd: Int32 = -1
  private var connecting: Task<Void, any Error>?
  /// Set when the connection is lost or closed: every operation then throws it.
  var failure: SshError?
  nonisolated(unsafe) let io = UnsafeMutablePointer<SessionIO>.allocate(capacity: 1)
  /// The operation that left a partly sent packet in libssh2: only it may call libssh2 until done.
  /// (With the send queue of ``SessionIO`` libssh2 sees no short send, so this stays a safeguard.)
  private var outboundOwner: UInt64?
  private var operationCounter: UInt64 = 0
  /// Where commands' output is read into, shared by the connection's channels: each read is
  /// copied out before the actor can run anything else (64 KiB, allocated on first use).
  lazy var readBuffer = ReadBuffer(capacity: 64 * 1024)
  let openGate = AsyncGate(permits: 1)
  let sessionSlots: AsyncGate
  let sftpGate = AsyncGate(permits: 1)
  var sftp: OpaquePointer?
  var openSessionChannels = 0
  private var channelClosedWaiters: [CheckedContinuation<Void, Never>] = []
  private var keepaliveTask: Task<Void, Never>?
  /// How many times this connection has been established (for tests and statistics).
  public private(set) var connectionCount = 0

  /// Creates a connection (not opened yet), optionally through a gateway.
  public init(configuration: SshConfiguration, gateway: SshConnection? = nil) {
    self.configuration = configuration
    self.gateway = gateway
    self.sessionSlots = AsyncGate(permits: configuration.maxSessions)
    io.initialize(to: SessionIO())
  }

  deinit {
    keepaliveTask?.cancel()
    if let session {
      Reactor.shared.deregister(fd: fd)
      shutdown(fd, Int32(SHUT_RDWR))
      libssh2_session_set_blocking(session, 1)
      libssh2_session_free(session)
      Glibc.close(fd)
    }
    io.pointee.reset()
    io.deallocate()
  }

  /// `user@host[:port]`, as errors name this connection.
  public nonisolated var label: String { configuration.label }

  /// True while the connection is open and usable.
  public var isConnected: Bool { session != nil && failure == nil && connecting == nil }

  // MARK: - Connecting

  /// Opens the connection if it is not open: TCP (or a tunnel through the gateway), handshake,
  /// host-key check and authentication, all within the connect timeout. Concurrent callers share
  /// one attempt. A connection that failed or was closed is opened anew.
  public func connect() async throws {
    // While an attempt runs, `session` exists but is not usable yet: wait for the attempt.
    if let connecting { return try await connecting.valueUnlessCancelled() }
    if session != nil && failure == nil { return }
    if session != nil { teardown() }
    // The attempt clears `connecting` itself: a caller that stops waiting (cancelled) must not
    // let others in before the handshake is over.
    let attempt = Task {
      defer { self.connecting = nil }
      try await self.establish()
    }
    connecting = attempt
    try await attempt.valueUnlessCancelled()
  }

  private func establish() async throws {
    LibSSH2.ensureInitialized()
    let deadline = ContinuousClock.now + configuration.connectTimeout
    let timeoutError = SshError(
      .connectTimeout, host: label,
      "no SSH handshake within \(configuration.connectTimeout); is it an SSH server, and is it overloaded?")
    if let gateway {
      fd = try await gateway.openTunnel(host: configuration.host, port: configuration.port, for: label)
    } else {
      fd = try await Socket.connect(
        host: configuration.host, port: configuration.port, deadline: deadline, label: label)
    }
    io.pointee.reset()
    guard
      let session = libssh2_session_init_ex(
        SessionMemory.alloc, SessionMemory.free, SessionMemory.realloc, UnsafeMutableRawPointer(io))
    else {
      teardown()
      throw SshError(.other, host: label, "cannot create a libssh2 session (out of memory?)")
    }
    // libssh2 zero-filled the whole session struct; only the pages it uses need to stay resident.
    SessionMemory.releaseZeroPages(of: UnsafeMutableRawPointer(session))
    self.session = session
    failure = nil
    libssh2_session_set_blocking(session, 0)
    _ = libssh2_session_callback_set(session, LIBSSH2_CALLBACK_RECV, unsafeBitCast(countingRecv, to: UnsafeMutableRawPointer.self))
    _ = libssh2_session_callback_set(session, LIBSSH2_CALLBACK_SEND, unsafeBitCast(queueingSend, to: UnsafeMutableRawPointer.self))
    if let size = configuration.socketSendBufferSize {
      var value = Int32(size)
      _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &value, socklen_t(MemoryLayout<Int32>.size))
    }
    do {
      try await drive(deadline: deadline, timeout: timeoutError) { () throws -> Void? in
        let rc = libssh2_session_handshake(session, self.fd)
        if rc == LibSSH2.eagain { return nil }
        if rc != 0 {
          throw SshError(.handshakeFailed, host: self.label, "SSH handshake failed: \(self.lastErrorMessage(rc))")
        }
        return ()
      }
      try checkHostKey()
      try await authenticate(deadline: deadline, timeoutError: timeoutError)
    } catch {
      teardown()
      throw error
    }
    connectionCount += 1
    startKeepalive()
  }

  // MARK: - Driving libssh2

  /// Calls `attempt` (which calls libssh2 and returns `nil` for `EAGAIN`) until it returns a value,
  /// awaiting the socket in between. Throws `timeout` when `deadline` passes, and the connection's
  /// failure when it is lost.
  func drive<T>(
    deadline: ContinuousClock.Instant? = nil, timeout: @autoclosure () -> SshError? = nil,
    _ attempt: () throws -> T?
  ) async throws -> T {
    operationCounter &+= 1
    let me = operationCounter
    defer { releaseOutbound(me) }
    let reactor = Reactor.shared
    while true {
      if let failure { throw failure }
      guard let session else { throw SshError(.disconnected, host: label, "the connection is closed") }
      // What libssh2 handed over earlier goes out first.
      try flushQueue()
      var interest: Reactor.Interest = []
      if outboundOwner == nil || outboundOwner == me {
        let before = io.pointee.received
        let result: T?
        do {
          result = try attempt()
        } catch let error as SshError where error.code == .disconnected {
          lose(error)
          throw error
        }
        let readSome = io.pointee.received != before
        if readSome { reactor.wakeAll(fd: fd) }
        if let result {
          // The operation is over once its bytes have left.
          while io.pointee.pendingCount > 0 {
            try await awaitSocket(.writable, deadline: deadline, timeout: timeout)
            try flushQueue()
          }
          return result
        }
        // The bytes this attempt read may hold this operation's own data, now in libssh2's packet
        // list and no longer in the socket: reading stderr can take in the next stdout packet. The
        // server may have nothing more to send (the command ended), so waiting for the socket would
        // wait for the next keepalive, 30 s later. Try again first.
        if readSome { continue }
        let directions = libssh2_session_block_directions(session)
        if directions & clibssh2_session_block_inbound() != 0 { interest.insert(.readable) }
        if directions & clibssh2_session_block_outbound() != 0 {
          interest.insert(.writable)
          outboundOwner = me
        } else {
          releaseOutbound(me)
        }
        // Queued bytes belong to no operation: the others may go on (theirs queue behind).
        if io.pointee.pendingCount > 0 { interest.insert(.writable) }
        if interest.isEmpty { interest = .readable }
      }
      try await awaitSocket(interest, deadline: deadline, timeout: timeout)
    }
  }

  /// Waits for the socket to be ready for `interest` (or for progress on it), or the deadline.
  private func awaitSocket(
    _ interest: Reactor.Interest, deadline: ContinuousClock.Instant?, timeout: () -> SshError?
  ) async throws {
    if let failure { throw failure }
    let reactor = Reactor.shared
    let generation = reactor.generation(of: fd)
    let wakeup: Reactor.Wakeup
    do {
      wakeup = try await reactor.wait(fd: fd, for: interest, generation: generation, deadline: deadline)
    } catch is Reactor.Closed {
      throw failure ?? SshError(.disconnected, host: label, "the connection was closed")
    }
    if case .timedOut = wakeup {
      throw timeout() ?? SshError(.commandTimeout, host: label, "operation timed out")
    }
  }

  /// Sends what the socket takes of the queued bytes; a socket error loses the connection.
  private func flushQueue() throws {
    guard io.pointee.pendingCount > 0 else { return }
    if !io.pointee.flush(fd) {
      let error = SshError(
        .disconnected, host: label, "connection lost while sending: \(String(cString: strerror(io.pointee.sendError)))")
      lose(error)
      throw error
    }
  }

  private func releaseOutbound(_ operation: UInt64) {
    if outboundOwner == operation {
      outboundOwner = nil
      Reactor.shared.wakeAll(fd: fd)
    }
  }

  /// Marks the connection lost: every waiter wakes up and throws `error`.
  func lose(_ error: SshError) {
    if failure == nil { failure = error }
    if fd >= 0 { Reactor.shared.wakeAll(fd: fd) }
  }

  /// The error for a libssh2 return code, classifying lost connections.
  func error(_ rc: Int32, _ what: String) -> SshError {
    switch rc {
    case -7, -13, -43, -45, -1:
      return SshError(.disconnected, host: label, "connection lost while \(what): \(lastErrorMessage(rc))")
    default:
      return SshError(.other, host: label, "\(what) failed: \(lastErrorMessage(rc))")
    }
  }

  /// libssh2's own message for the last error, or a description of `rc`.
  func lastErrorMessage(_ rc: Int32) -> String {
    guard let session else { return LibSSH2.describe(rc) }
    var message: UnsafeMutablePointer<CChar>?
    var length: Int32 = 0
    _ = libssh2_session_last_error(session, &message, &length, 0)
    if let message, length > 0 { return String(cString: message) }
    return LibSSH2.describe(rc)
  }

  /// The last errno of the session (for calls that return a NULL pointer).
  func lastErrno() -> Int32 {
    guard let session else { return 0 }
    return libssh2_session_last_errno(session)
  }

  // MARK: - Host key

  private func checkHostKey() throws {
    guard configuration.hostKeyPolicy != .off, let session else { return }
    var length = 0
    var type: Int32 = 0
    guard let key = libssh2_session_hostkey(session, &length, &type) else {
      throw SshError(.handshakeFailed, host: label, "the server sent no host key")
    }
    let bytes = [UInt8](UnsafeRawBufferPointer(start: key, count: length))
    let path = configuration.knownHostsPath ?? SshConfiguration.defaultKnownHostsPath
    let store = KnownHostsStore.store(for: path)
    let host = configuration.host
    let port = configuration.port
    let name = KnownHostsStore.entryName(host: host, port: port)
    switch store.check(host: host, port: port, key: bytes, keyType: type) {
    case .match:
      return
    case .mismatch(let line):
      let location = line.map { "\(path) line \($0)" } ?? path
      throw SshError(
        .hostKeyMismatch, host: label,
        "HOST KEY CHANGED: the key offered by \(name) differs from the one recorded in \(location); "
          + "if the host was reinstalled, remove that entry (ssh-keygen -R '\(name)' -f \(path)) and retry")
    case .notFound:
      if configuration.hostKeyPolicy == .strict {
        throw SshError(
          .hostKeyUnknown, host: label,
          "unknown host key for \(name) (strict checking): add it to \(path), e.g. with ssh-keyscan -p \(port) \(host) >> \(path)")
      }
      do {
        try store.add(host: host, port: port, key: bytes, keyType: type)
      } catch {
        throw SshError(.localFile, host: label, "cannot record the host key in \(path): \(error)")
      }
    }
  }

  // MARK: - Keepalive

  private func startKeepalive() {
    guard let interval = configuration.keepaliveInterval, let session else { return }
    let seconds = max(1, interval.components.seconds)
    libssh2_keepalive_config(session, 1, UInt32(seconds))
    keepaliveTask?.cancel()
    keepaliveTask = Task { [weak self] in
      while !Task.isCancelled {
        try? await Task.sleep(for: .seconds(seconds))
        guard let self, !Task.isCancelled else { return }
        await self.sendKeepalive()
      }
    }
  }

  private func sendKeepalive() async {
    // Never while a packet is half sent: libssh2 would interleave two packets.
    guard let session, failure == nil, outboundOwner == nil else { return }
    var next: Int32 = 0
    let rc = libssh2_keepalive_send(session, &next)
    if rc != 0 && rc != LibSSH2.eagain { lose(error(rc, "sending a keepalive")) }
    // An idle connection has no operation to flush the queue: try now, the next keepalive retries.
    try? flushQueue()
  }

  // MARK: - Channels

  /// What opening a channel gave.
  enum OpenResult {
    case opened(OpaquePointer)
    case refused(String)
  }

  /// Opens a channel with `open` under the open gate (libssh2 keeps one open state per session),
  /// retrying when the server refuses while other channels of ours are open (MaxSessions).
  func openChannel(_ what: String, counted: Bool, _ open: @escaping (OpaquePointer) -> OpaquePointer?) async throws
    -> OpaquePointer
  {
    while true {
      let result: OpenResult = try await openGate.withPermit {
        try await drive { () throws -> OpenResult? in
          guard let session = self.session else { return nil }
          if let channel = open(session) { return .opened(channel) }
          let rc = self.lastErrno()
          if rc == LibSSH2.eagain { return nil }
          if rc == -21 || rc == -22 { return .refused(self.lastErrorMessage(rc)) }
          throw self.error(rc, "opening a \(what) channel")
        }
      }
      switch result {
      case .opened(let channel):
        if counted { openSessionChannels += 1 }
        return channel
      case .refused(let message):
        guard counted, openSessionChannels > 0 else {
          throw SshError(.channelRefused, host: label, "the server refused a \(what) channel: \(message)")
        }
        // The server allows fewer sessions than assumed: wait for one of ours to close.
        await withCheckedContinuation { channelClosedWaiters.append($0) }
      }
    }
  }

  /// Closes and frees a channel of the connection's `epoch`, ignoring errors (the connection may
  /// be gone). libssh2 waits for the server's close, which comes when the remote process ends:
  /// `patience` bounds that wait.
  func release(channel: OpaquePointer, epoch: Int, counted: Bool, patience: Duration = .seconds(5)) async {
    // A channel of a session already freed (closed, or reconnected since) is gone with it.
    guard epoch == connectionCount, session != nil else { return }
    if failure == nil {
      let deadline = ContinuousClock.now + patience
      _ = try? await drive(deadline: deadline) { () -> Void? in
        libssh2_channel_close(channel) == LibSSH2.eagain ? nil : ()
      }
      _ = try? await drive(deadline: deadline) { () -> Void? in
        libssh2_channel_wait_closed(channel) == LibSSH2.eagain ? nil : ()
      }
    }
    guard epoch == connectionCount, session != nil else { return }
    if failure == nil {
      _ = try? await drive(deadline: .now + .seconds(5)) { () -> Void? in
        libssh2_channel_free(channel) == LibSSH2.eagain ? nil : ()
      }
    } else {
      libssh2_channel_free(channel)
    }
    if counted {
      openSessionChannels -= 1
      let waiters = channelClosedWaiters
      channelClosedWaiters.removeAll()
      for waiter in waiters { waiter.resume() }
    }
  }

  // MARK: - Closing

  /// Closes the connection: SFTP, a polite disconnect, then the socket. Ongoing operations fail
  /// with a `disconnected` error. The connection may be opened again later.
  public func close() async {
    if let connecting { _ = try? await connecting.value }
    keepaliveTask?.cancel()
    keepaliveTask = nil
    guard let session else { return }
    if failure == nil {
      let deadline = ContinuousClock.now + .seconds(2)
      if let sftp {
        _ = try? await drive(deadline: deadline) { () -> Void? in
          libssh2_sftp_shutdown(sftp) == LibSSH2.eagain ? nil : ()
        }
      }
      _ = try? await drive(deadline: deadline) { () -> Void? in
        let rc = libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, "closed by apssh", "")
        return rc == LibSSH2.eagain ? nil : ()
      }
    }
    lose(SshError(.disconnected, host: label, "the connection was closed"))
    teardown()
  }

  /// Frees the session and closes the socket (no network round trip).
  func teardown() {
    keepaliveTask?.cancel()
    keepaliveTask = nil
    if sftp != nil {
      // The SFTP subsystem held one of the session slots since it was opened.
      sftp = nil
      sessionSlots.release()
    }
    if let session {
      // Shut the socket down first so libssh2 cannot block on it while freeing.
      shutdown(fd, Int32(SHUT_RDWR))
      libssh2_session_set_blocking(session, 1)
      libssh2_session_free(session)
      self.session = nil
    }
    if fd >= 0 {
      Reactor.shared.deregister(fd: fd)
      Glibc.close(fd)
      fd = -1
    }
    openSessionChannels = 0
    let waiters = channelClosedWaiters
    channelClosedWaiters.removeAll()
    for waiter in waiters { waiter.resume() }
  }
}
