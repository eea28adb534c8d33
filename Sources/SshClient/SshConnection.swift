import CLibSSH2
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

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

  /// Reports the connection's life (attempts, connected, lost, closed), on the actor, in order.
  public nonisolated let onEvent: (@Sendable (ConnectionEvent) -> Void)?

  /// Where the connection stands (see ``ConnectionState``).
  public private(set) var state: ConnectionState = .idle
  /// The attempt in progress while `state` is `.connecting`: its shared result and its task.
  private var attempt: (result: AsyncPromise<Void>, task: TaskHandle)?
  nonisolated(unsafe) var session: OpaquePointer?
  var fd: Int32 = -1
  /// Set when the current session became unusable (lost, or closed): every operation on it throws
  /// this. A new attempt clears it.
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
  /// The sessions commands and SFTP may use: the server's `MaxSessions` less one, kept free to
  /// stop commands (see ``RemoteProcessGroup``) when every other session is busy.
  let sessionSlots: AsyncGate
  /// The session kept free for stop requests.
  let controlSlot = AsyncGate(permits: 1)
  /// Process groups to signal, in order, and the task sending them.
  var pendingStops: [(signal: String, group: Int32)] = []
  var stopper: Task<Void, Never>?
  /// The agent identity being tried, whose sign callback may ask to wait on the agent's socket.
  var agentSigner: AgentSigner?
  let sftpGate = AsyncGate(permits: 1)
  var sftp: OpaquePointer?
  var openSessionChannels = 0
  private var channelClosedWaiters: [CheckedContinuation<Void, Never>] = []
  private var keepaliveTask: Task<Void, Never>?
  /// How many times this connection has been established (for tests and statistics).
  public private(set) var connectionCount = 0

  /// Creates a connection (not opened yet), optionally through a gateway.
  /// - Parameter onEvent: called on each step of the connection's life (see ``ConnectionEvent``).
  public init(
    configuration: SshConfiguration, gateway: SshConnection? = nil,
    onEvent: (@Sendable (ConnectionEvent) -> Void)? = nil
  ) {
    self.configuration = configuration
    self.gateway = gateway
    self.onEvent = onEvent
    self.sessionSlots = AsyncGate(permits: max(1, configuration.maxSessions - 1))
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
  public var isConnected: Bool {
    if case .connected = state { return true }
    return false
  }

  // MARK: - Connecting

  /// Opens the connection if it is not open: TCP (or a tunnel through the gateway), handshake,
  /// host-key check and authentication, each attempt within the connect timeout, up to
  /// ``SshConfiguration/connectionAttempts`` attempts for errors worth retrying
  /// (``SshError/isRetryable``), ``SshConfiguration/retryDelay`` apart.
  ///
  /// Concurrent callers share one attempt; a caller that is cancelled stops waiting at once, and
  /// when every caller has gone the attempt itself is cancelled. A connection that failed, was
  /// lost or was closed is opened anew.
  public func connect() async throws {
    switch state {
    case .connected: return
    case .connecting: break
    case .idle, .failed, .closed: startAttempt()
    }
    guard let attempt else { return try checkConnected() }
    try await attempt.result.value()
  }

  /// Throws unless connected (after an attempt that ended before its waiters were resumed).
  private func checkConnected() throws {
    switch state {
    case .connected: return
    case .failed(let error): throw error
    default: throw SshError(.disconnected, host: label, "the connection is closed")
    }
  }

  private func startAttempt() {
    if session != nil { teardown() }
    let handle = TaskHandle()
    let result = AsyncPromise<Void>(onAbandoned: { handle.cancel() })
    state = .connecting
    attempt = (result, handle)
    handle.set(Task { await self.runAttempts(result) })
  }

  /// The attempts of one `connect()`: each one `establish()`, retried as configured.
  private func runAttempts(_ result: AsyncPromise<Void>) async {
    let total = configuration.connectionAttempts
    var number = 1
    while true {
      emit(.connecting(attempt: number, of: total))
      let failure: SshError
      do {
        try await establish()
        finishAttempt(result, state: .connected, .success(()))
        emit(.connected)
        return
      } catch let error as SshError where !Task.isCancelled {
        failure = error
      } catch {
        // Cancelled: every waiter left, or close() came; not a failure of the host.
        finishAttempt(result, state: .idle, .failure(CancellationError()))
        return
      }
      let retry = number < total && failure.isRetryable
      emit(.attemptFailed(failure, willRetry: retry))
      guard retry else {
        finishAttempt(result, state: .failed(failure), .failure(failure))
        return
      }
      do {
        try await Task.sleep(for: configuration.retryDelay)
      } catch {
        finishAttempt(result, state: .idle, .failure(CancellationError()))
        return
      }
      number += 1
    }
  }

  /// Ends the attempt in progress, if it is still `result`'s (close() may have ended it first).
  private func finishAttempt(_ result: AsyncPromise<Void>, state: ConnectionState, _ outcome: Result<Void, any Error>) {
    if let attempt, attempt.result === result {
      self.state = state
      self.attempt = nil
    }
    result.fulfill(outcome)
  }

  /// Tells the event handler.
  private func emit(_ event: ConnectionEvent) {
    onEvent?(event)
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
    _ = libssh2_session_callback_set(
      session, LIBSSH2_CALLBACK_RECV, unsafeBitCast(SessionIO.receiveCallback, to: UnsafeMutableRawPointer.self))
    _ = libssh2_session_callback_set(
      session, LIBSSH2_CALLBACK_SEND, unsafeBitCast(SessionIO.sendCallback, to: UnsafeMutableRawPointer.self))
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
        // An agent signature on its way: wait for the agent's socket, not the server's.
        if let signer = agentSigner, let wait = signer.wait {
          signer.wait = nil
          let agentFD = signer.agent.fd
          let wakeup = try await reactor.wait(
            fd: agentFD, for: wait, generation: reactor.generation(of: agentFD), deadline: signer.deadline)
          if case .timedOut = wakeup { signer.giveUp() }
          continue
        }
        let directions = libssh2_session_block_directions(session)
        if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { interest.insert(.readable) }
        if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 {
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
        .disconnected, host: label, "connection lost while sending: \(String(cString: strerror(io.pointee.sendError)))",
        systemError: io.pointee.sendError)
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
    if case .connected = state {
      state = .failed(error)
      emit(.lost(error))
    }
    if fd >= 0 { Reactor.shared.wakeAll(fd: fd) }
  }

  /// The error for a libssh2 return code, classifying lost connections; the code is kept in it.
  func error(_ rc: Int32, _ what: String) -> SshError {
    if LibSSH2.isConnectionLost(rc) {
      return SshError(
        .disconnected, host: label, "connection lost while \(what): \(lastErrorMessage(rc))", libssh2Code: rc)
    }
    return SshError(.other, host: label, "\(what) failed: \(lastErrorMessage(rc))", libssh2Code: rc)
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

  /// Checks the host's key against the known_hosts file, by the policy: a changed key is refused
  /// (or, with checking off, reported once and let through), an unknown one refused (`strict`) or
  /// recorded and reported (`accept-new`).
  private func checkHostKey() throws {
    guard let session else { return }
    var length = 0
    var type: Int32 = 0
    guard let key = libssh2_session_hostkey(session, &length, &type) else {
      if configuration.hostKeyPolicy == .off { return }
      throw SshError(.handshakeFailed, host: label, "the server sent no host key")
    }
    let bytes = [UInt8](UnsafeRawBufferPointer(start: key, count: length))
    let path = configuration.knownHostsPath ?? SshConfiguration.defaultKnownHostsPath
    let store = KnownHostsStore.store(for: path)
    let host = configuration.host
    let port = configuration.port
    let name = KnownHostsStore.entryName(host: host, port: port)
    let typeName = KnownHostsStore.typeName(for: type)
    let result = store.check(host: host, port: port, key: bytes, keyType: type)
    if configuration.hostKeyPolicy == .off {
      // Not checked, but a changed key is worth a loud word (once per host and key).
      if case .mismatch(let line) = result, store.firstReportOfChange(host: host, port: port, key: bytes) {
        emit(.hostKeyChangedUnchecked(host: name, keyType: typeName, file: path, line: line))
      }
      return
    }
    switch result {
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
          "unknown host key for \(name) (strict checking): add it to \(path), e.g. with ssh-keyscan -p \(port) \(host) >> \(path)"
        )
      }
      let recorded: Bool
      do {
        // Only the default file (~/.ssh/known_hosts) gets its directory made, as OpenSSH does.
        recorded = try store.add(
          host: host, port: port, key: bytes, keyType: type, createDirectory: configuration.knownHostsPath == nil)
      } catch {
        throw SshError(.localFile, host: label, "cannot record the host key in \(path): \(error)")
      }
      if recorded { emit(.hostKeyRecorded(host: name, keyType: typeName, file: path)) }
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
          if rc == LIBSSH2_ERROR_CHANNEL_FAILURE || rc == LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED {
            return .refused(self.lastErrorMessage(rc))
          }
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

  /// Sends a channel close and waits, at most `patience`, for the server's: it comes when the
  /// remote process has ended. True when the server closed the channel (or the session is gone).
  @discardableResult
  func closeChannel(_ channel: OpaquePointer, epoch: Int, patience: Duration) async -> Bool {
    guard epoch == connectionCount, session != nil, failure == nil else { return true }
    let deadline = ContinuousClock.now + patience
    do {
      try await drive(deadline: deadline) { () -> Void? in
        libssh2_channel_close(channel) == LibSSH2.eagain ? nil : ()
      }
      try await drive(deadline: deadline) { () -> Void? in
        libssh2_channel_wait_closed(channel) == LibSSH2.eagain ? nil : ()
      }
      return true
    } catch {
      return false
    }
  }

  /// Closes (see ``closeChannel(_:epoch:patience:)``) and frees a channel of the connection's
  /// `epoch`, ignoring errors (the connection may be gone).
  func release(channel: OpaquePointer, epoch: Int, counted: Bool, patience: Duration = .seconds(5)) async {
    // A channel of a session already freed (closed, or reconnected since) is gone with it.
    guard epoch == connectionCount, session != nil else { return }
    await closeChannel(channel, epoch: epoch, patience: patience)
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
  /// with a `disconnected` error, and so do callers waiting for an attempt in progress, which is
  /// cancelled. The connection may be opened again later.
  public func close() async {
    let wasConnected = isConnected
    state = .closed
    if let attempt {
      self.attempt = nil
      attempt.result.fulfill(
        .failure(SshError(.disconnected, host: label, "the connection was closed while connecting")))
      attempt.task.cancel()
      await attempt.task.wait()
    }
    // Stop requests go out before the connection does (closing a channel stops no remote command).
    await waitForStops(patience: .seconds(15))
    keepaliveTask?.cancel()
    keepaliveTask = nil
    guard let session else { return }
    if failure == nil && wasConnected {
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
    // A connect() during the polite part started a new attempt: that one is not ours to close.
    guard self.session == session, attempt == nil else { return }
    lose(SshError(.disconnected, host: label, "the connection was closed"))
    teardown()
    if wasConnected { emit(.closed) }
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
