import CLibSSH2
import Foundation

extension SshConnection {
  /// Runs `command` on a new channel of this connection (opened first if needed) and streams its
  /// output to `output` as it arrives, stdout and stderr drained together. The command reads
  /// `stdin` on its standard input, then end-of-file (at once by default).
  ///
  /// Up to ``SshConfiguration/maxSessions`` minus one commands run at once on one connection (one
  /// session stays free to stop commands); more wait for a free session. With `pty`, a
  /// pseudo-terminal is requested (stderr then arrives on stdout, and closing the channel hangs the
  /// remote process up).
  ///
  /// When `timeout` passes, or the calling task is cancelled, and `stopsRemoteProcess` is set, the
  /// remote process group is sent SIGTERM over another channel of the connection (then SIGKILL if
  /// it is still there 10 s later; see ``RemoteProcessGroup``), and a `commandTimeout` error (or
  /// `CancellationError`) is thrown at once. Without `stopsRemoteProcess` the remote process is left
  /// to end on its own. ``close()`` waits (a few seconds at most) for stop requests to be sent.
  ///
  /// - Returns: the exit status, or the name of the signal that killed the remote process.
  public func execute(
    _ command: String, pty: Bool = false, timeout: Duration? = nil, stopsRemoteProcess: Bool = true,
    stdin: CommandInput = .none, output: @Sendable (OutputChunk) async -> Void
  ) async throws -> ExitStatus {
    try await connect()
    let deadline = timeout.map { ContinuousClock.now + $0 }
    try await sessionSlots.acquire()
    let channel: OpaquePointer
    do {
      channel = try await openChannel("session", counted: true) { session in
        LibSSH2.openSession(session)
      }
    } catch {
      sessionSlots.release()
      throw error
    }
    let epoch = connectionCount
    // A pseudo-terminal hangs the session up when its channel closes: no launcher needed.
    var report = stopsRemoteProcess && !pty ? ProcessGroupReport() : nil
    let line = report == nil ? command : RemoteProcessGroup.launching(command)
    do {
      let status = try await run(
        line, shown: command, on: channel, pty: pty, deadline: deadline, timeout: timeout, stdin: stdin,
        report: &report, output: output)
      await release(channel: channel, epoch: epoch, counted: true)
      sessionSlots.release()
      return status
    } catch {
      // The caller hears at once; the channel closes in the background, holding its session slot
      // until the server has closed it, which it does when the remote process has ended.
      let group = report?.processGroup
      if let group { requestStop(signal: "TERM", group: group) }
      Task {
        if let group, await !self.closeChannel(channel, epoch: epoch, patience: .seconds(10)) {
          self.requestStop(signal: "KILL", group: group)
        }
        await self.release(channel: channel, epoch: epoch, counted: true, patience: .seconds(86400))
        self.sessionSlots.release()
      }
      throw error
    }
  }

  /// Runs `command` and collects its whole output (for short outputs).
  public func run(_ command: String, pty: Bool = false, timeout: Duration? = nil) async throws -> CommandResult {
    let collector = OutputCollector()
    let status = try await execute(command, pty: pty, timeout: timeout) { chunk in
      collector.append(chunk)
    }
    let (stdout, stderr) = collector.contents
    return CommandResult(stdout: stdout, stderr: stderr, status: status)
  }

  private func run(
    _ command: String, shown: String, on channel: OpaquePointer, pty: Bool, deadline: ContinuousClock.Instant?,
    timeout: Duration?, stdin: CommandInput, report: inout ProcessGroupReport?,
    output: @Sendable (OutputChunk) async -> Void
  ) async throws -> ExitStatus {
    let timeoutError = SshError(
      .commandTimeout, host: label, "command timed out after \(timeout.map(\.compactDescription) ?? "?"): \(shown)")
    if pty {
      try await drive(deadline: deadline, timeout: timeoutError) { () throws -> Void? in
        let rc = libssh2_channel_request_pty_ex(channel, "xterm", 5, nil, 0, 200, 50, 0, 0)
        if rc == LibSSH2.eagain { return nil }
        if rc != 0 { throw self.error(rc, "requesting a pseudo-terminal") }
        return ()
      }
    }
    // The command's bytes as given, even those that are not UTF-8 (see `String(argumentBytes:)`).
    let bytes = command.wireBytes
    try await drive(deadline: deadline, timeout: timeoutError) { () throws -> Void? in
      let rc = bytes.withUnsafeBufferPointer { buffer in
        buffer.withMemoryRebound(to: CChar.self) {
          libssh2_channel_process_startup(channel, "exec", 4, $0.baseAddress, UInt32($0.count))
        }
      }
      if rc == LibSSH2.eagain { return nil }
      if rc != 0 { throw self.error(rc, "starting the command") }
      return ()
    }
    // Without input, the command reads end-of-file at once (as `ssh host cmd < /dev/null` does)
    // instead of waiting forever; with input, the bytes are sent while the output is read.
    let feeding: Task<Void, any Error>?
    if let makeReader = stdin.makeReader {
      let reader = makeReader()
      feeding = Task { try await self.feed(channel, from: reader, deadline: deadline, timeout: timeoutError) }
    } else {
      feeding = nil
      try await sendEOF(channel, deadline: deadline, timeout: timeoutError)
    }
    // However the reading ends, the feeding ends with it.
    defer { feeding?.cancel() }
    // Bytes are copied out of the connection's read buffer before any suspension, so all the
    // channels of a connection share one buffer.
    let buffer = readBuffer
    let capacity = buffer.capacity
    while true {
      // One attempt reads both streams, so neither can stall the other.
      let chunks: [OutputChunk] = try await drive(deadline: deadline, timeout: timeoutError) {
        () throws -> [OutputChunk]? in
        var chunks: [OutputChunk] = []
        let outCount = libssh2_channel_read_ex(channel, 0, buffer.pointer, capacity)
        if outCount > 0 {
          chunks.append(OutputChunk(stream: .stdout, bytes: buffer.bytes(outCount)))
        } else if outCount < 0 && outCount != Int(LibSSH2.eagain) {
          throw self.error(Int32(outCount), "reading the output")
        }
        let errCount = libssh2_channel_read_ex(channel, 1, buffer.pointer, capacity)
        if errCount > 0 {
          chunks.append(OutputChunk(stream: .stderr, bytes: buffer.bytes(errCount)))
        } else if errCount < 0 && errCount != Int(LibSSH2.eagain) {
          throw self.error(Int32(errCount), "reading the error output")
        }
        if !chunks.isEmpty { return chunks }
        if libssh2_channel_eof(channel) != 0 { return [] }
        return nil
      }
      if chunks.isEmpty { break }
      for chunk in chunks {
        if chunk.stream == .stderr, report?.isSearching == true {
          let shown = report!.take(chunk.bytes)
          if !shown.isEmpty { await output(OutputChunk(stream: .stderr, bytes: shown)) }
        } else {
          await output(chunk)
        }
      }
    }
    if let held = report?.finish(), !held.isEmpty { await output(OutputChunk(stream: .stderr, bytes: held)) }
    // The command's output is over: it reads no more input either (it may have ended without
    // reading it all). A local input that could not be read fails the command.
    if let feeding {
      feeding.cancel()
      if case .failure(let error) = await feeding.result, !(error is CancellationError) { throw error }
    }
    try await drive(deadline: deadline, timeout: timeoutError) { () -> Void? in
      libssh2_channel_close(channel) == LibSSH2.eagain ? nil : ()
    }
    try await drive(deadline: deadline, timeout: timeoutError) { () -> Void? in
      libssh2_channel_wait_closed(channel) == LibSSH2.eagain ? nil : ()
    }
    var signal: UnsafeMutablePointer<CChar>?
    var signalLength = 0
    _ = libssh2_channel_get_exit_signal(channel, &signal, &signalLength, nil, nil, nil, nil)
    if let signal {
      // Allocated by the session's allocator (``SessionMemory``): freed by it too.
      defer { SessionMemory.deallocate(signal) }
      if signalLength > 0 { return .signal(String(cString: signal)) }
    }
    return .code(libssh2_channel_get_exit_status(channel))
  }
}

extension SshConnection {
  /// Tells the command that its input is over.
  fileprivate func sendEOF(_ channel: OpaquePointer, deadline: ContinuousClock.Instant?, timeout: SshError) async throws
  {
    try await drive(deadline: deadline, timeout: timeout) { () throws -> Void? in
      let rc = libssh2_channel_send_eof(channel)
      if rc == LibSSH2.eagain { return nil }
      if rc != 0 { throw self.error(rc, "closing the command's input") }
      return ()
    }
  }

  /// Sends what `reader` gives to the command's stdin, then end-of-file. A command that stops
  /// reading (it ended, or closed its input) ends the feeding quietly; a reader that fails fails it.
  fileprivate func feed(
    _ channel: OpaquePointer, from reader: CommandInput.Reader, deadline: ContinuousClock.Instant?, timeout: SshError
  ) async throws {
    while true {
      let chunk: [UInt8]
      do {
        guard let next = try await reader() else { break }
        chunk = next
      } catch {
        // The command gets end-of-file, so that it ends, and the run hears why.
        try? await sendEOF(channel, deadline: deadline, timeout: timeout)
        throw error
      }
      var sent = 0
      while sent < chunk.count {
        // libssh2 copies the bytes into its packet during the call (and, with the send queue of
        // SessionIO, never asks for the same call again), so the pointer need not outlive it.
        let written: Int? = try await drive(deadline: deadline, timeout: timeout) { () throws -> Int?? in
          let rc = chunk.withUnsafeBytes { bytes in
            libssh2_channel_write_ex(
              channel, 0, bytes.baseAddress!.assumingMemoryBound(to: CChar.self) + sent, bytes.count - sent)
          }
          if rc == Int(LibSSH2.eagain) { return nil }
          if rc < 0 {
            if LibSSH2.isConnectionLost(Int32(rc)) { throw self.error(Int32(rc), "sending the command's input") }
            return .some(nil)  // the channel is closing: the command reads no more
          }
          return .some(rc)
        }
        guard let written else { return }
        sent += written
      }
    }
    try await sendEOF(channel, deadline: deadline, timeout: timeout)
  }
}

/// Accumulates a command's output for ``SshConnection/run(_:pty:timeout:)``.
private final class OutputCollector: @unchecked Sendable {
  private let lock = NSLock()
  private var stdout: [UInt8] = []
  private var stderr: [UInt8] = []

  func append(_ chunk: OutputChunk) {
    lock.withLock {
      switch chunk.stream {
      case .stdout: stdout += chunk.bytes
      case .stderr: stderr += chunk.bytes
      }
    }
  }

  var contents: ([UInt8], [UInt8]) { lock.withLock { (stdout, stderr) } }
}

/// A heap buffer that libssh2 reads into, owned by one operation of one connection actor.
final class ReadBuffer: @unchecked Sendable {
  let pointer: UnsafeMutablePointer<CChar>
  let capacity: Int

  init(capacity: Int) {
    self.capacity = capacity
    pointer = .allocate(capacity: capacity)
  }

  deinit { pointer.deallocate() }

  /// A copy of the first `count` bytes.
  func bytes(_ count: Int) -> [UInt8] { [UInt8](UnsafeRawBufferPointer(start: pointer, count: count)) }
}
