import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A loopback TCP endpoint used by a fault helper.
public struct TestbedEndpoint: Sendable, Hashable, CustomStringConvertible {
  /// IPv4 loopback address.
  public var address: String
  /// TCP port.
  public var port: UInt16

  /// `address:port`.
  public var description: String { "\(address):\(port)" }
}

/// An extra single-host sshd (a process of its own, in its own process group) that a test can
/// kill while commands run on it.
public struct KillableHost: Sendable {
  /// The host (an address after the testbed's hosts, on the testbed port, in known_hosts).
  public let host: TestbedHost
  /// The pid of its sshd (also its process group).
  public let pid: Int32
  let testbed: Testbed

  /// SIGKILLs the sshd, its process group (the connections' sshd processes) and every process
  /// below it (the commands), then reaps it. Connections to it break at once.
  public func kill() async {
    await testbed.killSshd(pid: pid)
  }
}

/// Fault helpers for tests. Everything they start is stopped by `stop()`.
extension Testbed {
  /// A loopback port where nothing listens, so connecting is refused at once (RST). The port is
  /// held by a bound, non-listening socket until `stop()`, so no one else takes it meanwhile.
  public func refusingEndpoint() throws -> TestbedEndpoint {
    let fd = try LoopbackSocket.bound(address: "127.0.0.1", port: 0, reuseAddress: false)
    let endpoint = TestbedEndpoint(address: "127.0.0.1", port: LoopbackSocket.localPort(fd))
    try keep(fd)
    return endpoint
  }

  /// A loopback listener that completes TCP handshakes (the kernel does, up to a backlog of 128)
  /// but never accepts and never sends a byte: an SSH client waits forever for the banner.
  /// Open until `stop()`.
  public func silentEndpoint() throws -> TestbedEndpoint {
    let fd = try LoopbackSocket.bound(address: "127.0.0.1", port: 0, reuseAddress: false)
    guard listen(fd, 128) == 0 else {
      let code = errno
      close(fd)
      throw TestbedError.system(call: "listen", errno: code)
    }
    let endpoint = TestbedEndpoint(address: "127.0.0.1", port: LoopbackSocket.localPort(fd))
    try keep(fd)
    return endpoint
  }

  /// Starts an extra host whose sshd has a newly generated host key, while known_hosts (and
  /// `hostPublicKey`) keeps the testbed's original key for its address: a client checking host
  /// keys strictly must refuse it ("host key changed").
  public func startChangedKeyHost() async throws -> TestbedHost {
    let (name, address) = try nextExtra(role: "changed")
    let keyPath = directory + "/\(name)_host_ed25519_key"
    unlink(keyPath)
    unlink(keyPath + ".pub")
    try await Subprocess.check(
      Self.sshKeygenPath, ["-q", "-t", "ed25519", "-N", "", "-C", "apssh-testbed-changed", "-f", keyPath])
    return try await startExtraHost(name: name, address: address, hostKey: keyPath, role: "changed-key")
  }

  /// Starts an extra host served by an sshd of its own (same host key, in known_hosts) that the
  /// test can kill with `KillableHost.kill()`, e.g. while a command runs on it.
  public func startKillableHost() async throws -> KillableHost {
    let (name, address) = try nextExtra(role: "killable")
    let host = try await startExtraHost(name: name, address: address, hostKey: hostKeyPath, role: "killable")
    let pid = state.withLock { $0.processes.last { $0.record.addresses == [address] }?.record.pid }
    return KillableHost(host: host, pid: pid ?? 0, testbed: self)
  }

  /// A known_hosts file (`DIR/known_hosts_wrong_<address>`) that is the testbed's, except that
  /// `host` has a different key: connecting to `host` with it must fail host-key checking.
  public func knownHostsWithWrongKey(for host: TestbedHost) async throws -> String {
    let keyPath = directory + "/wrong_host_ed25519_key"
    if !FileIO.exists(keyPath + ".pub") {
      // Made under a name of its own, then renamed: concurrent callers (tests run in parallel)
      // would otherwise both run ssh-keygen on one path, and the second refuses to overwrite.
      let made = keyPath + "-" + UUID().uuidString
      try await Subprocess.check(
        Self.sshKeygenPath, ["-q", "-t", "ed25519", "-N", "", "-C", "apssh-testbed-wrong", "-f", made])
      rename(made, keyPath)
      rename(made + ".pub", keyPath + ".pub")
    }
    let wrongKey = try Self.keyLine(FileIO.read(keyPath + ".pub") ?? "")
    let text = (FileIO.read(knownHostsPath) ?? "").split(separator: "\n").map { line in
      line.hasPrefix("[\(host.address)]:\(host.port) ")
        ? TestbedFiles.knownHostsLine(address: host.address, port: host.port, publicKey: wrongKey)
        : line + "\n"
    }.joined()
    let path = directory + "/known_hosts_wrong_\(host.address)"
    try FileIO.write(text, to: path)
    return path
  }

  // MARK: - Internals

  private func keep(_ fd: Int32) throws {
    let kept = state.withLock { state in
      if state.stopped { return false }
      state.sockets.append(fd)
      return true
    }
    if !kept {
      close(fd)
      throw TestbedError.stopped
    }
  }

  private func nextExtra(role: String) throws -> (name: String, address: String) {
    try state.withLock { state in
      if state.stopped { throw TestbedError.stopped }
      let index = state.nextAddressIndex
      state.nextAddressIndex += 1
      state.extraCount += 1
      return ("\(role)\(state.extraCount)", TestbedHost.address(index: index))
    }
  }

  private func startExtraHost(name: String, address: String, hostKey: String, role: String)
    async throws -> TestbedHost
  {
    guard LoopbackSocket.isFree(port: port, addresses: [address]) else {
      throw TestbedError.system(call: "bind \(address):\(port)", errno: EADDRINUSE)
    }
    await SshdConfig.detectFeatures()
    let process = try await Self.launchSshd(
      name: name, addresses: [address], port: port, hostKey: hostKey, user: user,
      paths: Paths(directory), role: role, watchdog: !persistent)
    do {
      try await Self.waitUntilListening([process], port: port)
    } catch {
      await Self.terminate([process])
      throw error
    }
    let line = TestbedFiles.knownHostsLine(address: address, port: port, publicKey: hostPublicKey)
    let added = state.withLock { state in
      if state.stopped { return false }
      state.processes.append(process)
      state.extraKnownHosts.append(line)
      return true
    }
    guard added else {
      await Self.terminate([process])
      throw TestbedError.stopped
    }
    try writeKnownHosts()
    try saveDescription()
    return TestbedHost(address: address, port: port, name: name, sshdIndex: -1)
  }

  /// Kills one sshd of the testbed with SIGKILL (group and descendants) and reaps it.
  func killSshd(pid: Int32) async {
    let process = state.withLock { state -> SshdProcess? in
      guard let index = state.processes.firstIndex(where: { $0.record.pid == pid }) else {
        return nil
      }
      return state.processes.remove(at: index)
    }
    guard let process else { return }
    if let fd = process.watchdogFD {
      _ = "stop\n".withCString { write(fd, $0, 5) }
      close(fd)
    }
    let descendants = ProcessTree.descendants(of: [pid])
    ProcessTree.signal(group: pid, and: descendants, SIGKILL)
    _ = await Subprocess.wait(pid, timeout: .seconds(2))
    if let watchdog = process.watchdogPid { _ = await Subprocess.wait(watchdog, timeout: .seconds(1)) }
    try? saveDescription()
  }
}
