import CLibSSH2

extension SshConnection {
  /// Sends `signal` to the remote process group `group` over a session of its own (see
  /// ``RemoteProcessGroup``), soon and in the background: requests made while one is being sent
  /// go out together in the next one.
  func requestStop(signal: String, group: Int32) {
    pendingStops.append((signal, group))
    guard stopper == nil else { return }
    stopper = Task { await self.sendStops() }
  }

  /// Waits until the pending stop requests are sent, at most `patience`.
  func waitForStops(patience: Duration) async {
    guard let stopper else { return }
    let limit = Task {
      try? await Task.sleep(for: patience)
      stopper.cancel()
    }
    await stopper.value
    limit.cancel()
  }

  private func sendStops() async {
    while !pendingStops.isEmpty, !Task.isCancelled {
      let batch = pendingStops
      pendingStops = []
      for signal in Set(batch.map(\.signal)).sorted() {
        let groups = batch.filter { $0.signal == signal }.map(\.group)
        try? await runControl(RemoteProcessGroup.stopCommand(signal: signal, groups: groups))
      }
    }
    pendingStops = []
    stopper = nil
  }

  /// Runs a short command of our own on the session kept free for it, output ignored, within 15 s
  /// (a loaded host can take seconds to fork the session's shell).
  private func runControl(_ command: String) async throws {
    guard isConnected else { return }
    try await controlSlot.withPermit {
      let channel = try await openChannel("session", counted: true) { session in
        LibSSH2.openSession(session)
      }
      let epoch = connectionCount
      let deadline = ContinuousClock.now + .seconds(15)
      defer { Task { await self.release(channel: channel, epoch: epoch, counted: true, patience: .seconds(5)) } }
      try await drive(deadline: deadline) { () throws -> Void? in
        let rc = libssh2_channel_process_startup(channel, "exec", 4, command, UInt32(command.utf8.count))
        if rc == LibSSH2.eagain { return nil }
        if rc != 0 { throw self.error(rc, "starting a stop request") }
        return ()
      }
      try await drive(deadline: deadline) { () -> Void? in
        libssh2_channel_send_eof(channel) == LibSSH2.eagain ? nil : ()
      }
      // The request is done when the remote kill has run: its channel reaches end-of-file.
      let buffer = readBuffer
      try await drive(deadline: deadline) { () -> Void? in
        while libssh2_channel_read_ex(channel, 0, buffer.pointer, buffer.capacity) > 0 {}
        while libssh2_channel_read_ex(channel, 1, buffer.pointer, buffer.capacity) > 0 {}
        return libssh2_channel_eof(channel) != 0 ? () : nil
      }
    }
  }
}
