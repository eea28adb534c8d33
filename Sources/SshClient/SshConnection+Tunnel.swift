import CLibSSH2
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

extension SshConnection {
  /// Opens a `direct-tcpip` channel from this connection's host to `host:port` and bridges it to
  /// a local socket pair; returns the other end of the pair (registered with the reactor), over
  /// which a connection to the target (a jump-host hop) runs its own SSH session.
  ///
  /// The bridge is two tasks of this actor pumping bytes each way; it ends when either side
  /// closes. Many tunnels share this one connection; channel opens through it go one at a time.
  func openTunnel(host: String, port: Int, for target: String) async throws -> Int32 {
    try await connect()
    let channel = try await openChannel("direct-tcpip", counted: false) { session in
      libssh2_channel_direct_tcpip_ex(session, host, Int32(port), "127.0.0.1", 22)
    }
    var pair: [Int32] = [-1, -1]
    guard
      socketpair(
        AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair)
        == 0
    else {
      let failure = errno
      await release(channel: channel, epoch: connectionCount, counted: false)
      throw SshError(
        .other, host: target, "cannot create a socket pair: \(String(cString: strerror(failure)))", systemError: failure
      )
    }
    let local = pair[0]
    do {
      try Reactor.shared.register(fd: local)
      try Reactor.shared.register(fd: pair[1])
    } catch {
      Reactor.shared.deregister(fd: local)
      Glibc.close(pair[0])
      Glibc.close(pair[1])
      await release(channel: channel, epoch: connectionCount, counted: false)
      throw SshError(.other, host: target, "\(error)", systemError: (error as? Reactor.WatchFailed)?.errno)
    }
    let bridge = TunnelBridge(channel: channel, fd: local, epoch: connectionCount)
    Task { await self.pumpToSocket(bridge) }
    Task { await self.pumpToChannel(bridge) }
    return pair[1]
  }

  /// Channel → socket: what the target sends goes to the inner session.
  private func pumpToSocket(_ bridge: TunnelBridge) async {
    let capacity = 64 * 1024
    let buffer = ReadBuffer(capacity: capacity)
    do {
      while true {
        let count: Int = try await drive { () throws -> Int? in
          let count = libssh2_channel_read_ex(bridge.channel, 0, buffer.pointer, capacity)
          if count == Int(LibSSH2.eagain) {
            return libssh2_channel_eof(bridge.channel) != 0 ? 0 : nil
          }
          if count < 0 { throw self.error(Int32(count), "reading from a tunnel") }
          if count == 0 && libssh2_channel_eof(bridge.channel) == 0 { return nil }
          return count
        }
        if count == 0 { break }
        try await Self.writeAll(fd: bridge.fd, buffer.pointer, count)
      }
    } catch {}
    shutdown(bridge.fd, Int32(SHUT_WR))
    await bridge.finish(side: 0, connection: self)
  }

  /// Socket → channel: what the inner session sends goes to the target.
  private func pumpToChannel(_ bridge: TunnelBridge) async {
    let capacity = 64 * 1024
    let buffer = ReadBuffer(capacity: capacity)
    do {
      while true {
        let count = Glibc.read(bridge.fd, buffer.pointer, capacity)
        if count == 0 { break }
        if count < 0 {
          guard errno == EAGAIN || errno == EINTR else { break }
          _ = try await Reactor.shared.wait(fd: bridge.fd, for: .readable, generation: 0)
          continue
        }
        var sent = 0
        while sent < count {
          sent += try await drive { () throws -> Int? in
            let written = libssh2_channel_write_ex(bridge.channel, 0, buffer.pointer + sent, count - sent)
            if written == Int(LibSSH2.eagain) { return nil }
            if written < 0 { throw self.error(Int32(written), "writing to a tunnel") }
            return written
          }
        }
      }
      _ = try? await drive { () -> Void? in
        libssh2_channel_send_eof(bridge.channel) == LibSSH2.eagain ? nil : ()
      }
    } catch {}
    await bridge.finish(side: 1, connection: self)
  }

  /// Writes all `count` bytes to our non-blocking end of the socket pair, awaiting writability.
  /// `MSG_NOSIGNAL`: when the other end is closed (the connection through the tunnel is gone),
  /// the write fails with `EPIPE` instead of raising SIGPIPE, which would kill the process.
  static func writeAll(fd: Int32, _ buffer: UnsafeMutablePointer<CChar>, _ count: Int) async throws {
    var written = 0
    while written < count {
      let rc = Glibc.send(fd, buffer + written, count - written, Int32(MSG_NOSIGNAL))
      if rc >= 0 {
        written += rc
      } else if errno == EAGAIN || errno == EINTR {
        _ = try await Reactor.shared.wait(fd: fd, for: .writable, generation: 0)
      } else {
        throw SshError(.disconnected, host: "tunnel", "tunnel socket closed: \(Socket.errnoString())")
      }
    }
  }

  /// Called by a bridge when both pumps have stopped.
  fileprivate func closeTunnel(_ bridge: TunnelBridge) async {
    Reactor.shared.deregister(fd: bridge.fd)
    Glibc.close(bridge.fd)
    await release(channel: bridge.channel, epoch: bridge.epoch, counted: false)
  }
}

/// The two ends of a tunnel: a libssh2 channel and our side of a socket pair.
final class TunnelBridge: @unchecked Sendable {
  let channel: OpaquePointer
  let fd: Int32
  let epoch: Int
  /// Touched only on the owning connection's actor.
  private var finished = [false, false]

  init(channel: OpaquePointer, fd: Int32, epoch: Int) {
    self.channel = channel
    self.fd = fd
    self.epoch = epoch
  }

  fileprivate func finish(side: Int, connection: isolated SshConnection) async {
    finished[side] = true
    if finished[0] && finished[1] { await connection.closeTunnel(self) }
  }
}
