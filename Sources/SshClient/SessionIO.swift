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

  /// Reads from the socket into `buffer`, counting what was read; `-errno` on failure (libssh2's
  /// convention for socket callbacks).
  mutating func receive(from socket: Int32, into buffer: UnsafeMutableRawPointer?, _ length: Int, flags: Int32) -> Int {
    let received = recv(socket, buffer, length, flags)
    if received < 0 { return -Int(errno) }
    self.received &+= UInt64(received)
    return received
  }

  /// Takes all `length` bytes of `buffer`: sends what the socket accepts now, after the bytes
  /// already pending, and queues the rest. Returns `length`, or `-errno` once the socket failed.
  mutating func take(_ buffer: UnsafeRawPointer, _ length: Int, socket: Int32, flags: Int32) -> Int {
    if sendError != 0 { return -Int(sendError) }
    // Bytes already waiting go first.
    if pendingCount > 0 && !flush(socket) { return -Int(sendError) }
    var sent = 0
    if pendingCount == 0 {
      while true {
        let rc = send(socket, buffer, length, flags | Int32(MSG_NOSIGNAL))  // EPIPE, never SIGPIPE
        if rc >= 0 {
          sent = rc
          break
        }
        if errno == EINTR { continue }
        if errno == EAGAIN || errno == EWOULDBLOCK { break }
        sendError = errno
        return -Int(errno)
      }
    }
    if sent < length {
      shortSends &+= 1
      queue(buffer + sent, length - sent)
    }
    return length
  }

  /// libssh2's receive callback: ``receive(from:into:_:flags:)`` on the session's `SessionIO`
  /// (its `abstract` pointer).
  static let receiveCallback:
    @convention(c) (
      libssh2_socket_t, UnsafeMutableRawPointer?, Int, Int32, UnsafeMutablePointer<UnsafeMutableRawPointer?>?
    ) -> Int = { socket, buffer, length, flags, abstract in
      guard let io = abstract?.pointee?.assumingMemoryBound(to: SessionIO.self) else { return -Int(EINVAL) }
      return io.pointee.receive(from: socket, into: buffer, length, flags: flags)
    }

  /// libssh2's send callback: ``take(_:_:socket:flags:)`` on the session's `SessionIO`.
  static let sendCallback:
    @convention(c) (
      libssh2_socket_t, UnsafeRawPointer?, Int, Int32, UnsafeMutablePointer<UnsafeMutableRawPointer?>?
    ) -> Int = { socket, buffer, length, flags, abstract in
      guard let buffer, let io = abstract?.pointee?.assumingMemoryBound(to: SessionIO.self) else { return -Int(EINVAL) }
      return io.pointee.take(buffer, length, socket: socket, flags: flags)
    }
}
