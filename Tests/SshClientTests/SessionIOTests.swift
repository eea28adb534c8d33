import Foundation
import Testing

@testable import SshClient

#if canImport(Glibc)
  import Glibc
#endif

/// The send queue under libssh2: every byte taken, what the socket refuses queued in order.
@Suite("SessionIO: the send queue, on socket pairs")
struct SessionIOTests {
  /// A non-blocking socket pair whose sending side has a small buffer.
  struct Pair {
    let sender: Int32
    let receiver: Int32

    init(sendBuffer: Int32 = 4096) throws {
      var fds: [Int32] = [-1, -1]
      guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds) == 0 else {
        throw POSIXError(.EMFILE)
      }
      sender = fds[0]
      receiver = fds[1]
      var size = sendBuffer
      setsockopt(sender, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
      setsockopt(receiver, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Everything readable now.
    func drain() -> [UInt8] {
      var result: [UInt8] = []
      var buffer = [UInt8](repeating: 0, count: 65536)
      while true {
        let count = buffer.withUnsafeMutableBytes { recv(receiver, $0.baseAddress, $0.count, 0) }
        if count <= 0 { return result }
        result += buffer[0..<count]
      }
    }

    func close() {
      Glibc.close(sender)
      Glibc.close(receiver)
    }
  }

  func take(_ io: inout SessionIO, _ bytes: [UInt8], _ socket: Int32) -> Int {
    bytes.withUnsafeBytes { io.take($0.baseAddress!, $0.count, socket: socket, flags: Int32(MSG_NOSIGNAL)) }
  }

  @Test("with room in the socket, every byte goes out and nothing is queued")
  func room() throws {
    let pair = try Pair(sendBuffer: 65536)
    defer { pair.close() }
    var io = SessionIO()
    defer { io.reset() }
    #expect(take(&io, Array("hello".utf8), pair.sender) == 5)
    #expect(io.pendingCount == 0 && io.shortSends == 0)
    #expect(pair.drain() == Array("hello".utf8))
  }

  @Test("a full socket takes part; the rest is queued, later sends queue behind, flush keeps the order")
  func order() throws {
    let pair = try Pair()
    defer { pair.close() }
    var io = SessionIO()
    defer { io.reset() }
    // Distinct packets, much bigger than the socket buffers together.
    let packets = (0..<8).map { index in [UInt8](repeating: UInt8(index), count: 40_000) }
    var expected: [UInt8] = []
    for packet in packets {
      #expect(take(&io, packet, pair.sender) == packet.count, "libssh2 is always told that all was sent")
      expected += packet
    }
    #expect(io.pendingCount > 0)
    #expect(io.shortSends >= 1)
    var received: [UInt8] = []
    var rounds = 0
    while io.pendingCount > 0 && rounds < 10_000 {
      received += pair.drain()
      let flushed = io.flush(pair.sender)
      #expect(flushed)
      rounds += 1
    }
    received += pair.drain()
    #expect(received == expected)
    #expect(io.pendingCapacity == 0, "a queue grown past 64 KiB is freed once empty")
  }

  @Test("a broken socket is reported, and keeps being reported")
  func broken() throws {
    let pair = try Pair()
    var io = SessionIO()
    defer { io.reset() }
    Glibc.close(pair.receiver)
    let result = take(&io, [1, 2, 3], pair.sender)
    #expect(result == -Int(EPIPE))
    #expect(io.sendError == EPIPE)
    #expect(take(&io, [4], pair.sender) == -Int(EPIPE))
    Glibc.close(pair.sender)
  }

  @Test("received bytes are counted")
  func receiving() throws {
    let pair = try Pair(sendBuffer: 65536)
    defer { pair.close() }
    var io = SessionIO()
    defer { io.reset() }
    var buffer = [UInt8](repeating: 0, count: 16)
    let nothing = buffer.withUnsafeMutableBytes { io.receive(from: pair.receiver, into: $0.baseAddress, 16, flags: 0) }
    #expect(nothing == -Int(EAGAIN))
    _ = "abcdef".withCString { Glibc.write(pair.sender, $0, 6) }
    let count = buffer.withUnsafeMutableBytes { io.receive(from: pair.receiver, into: $0.baseAddress, 16, flags: 0) }
    #expect(count == 6)
    #expect(io.received == 6)
  }
}
