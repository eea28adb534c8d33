import Foundation
import Testing

@testable import SshClient

#if canImport(Glibc)
  import Glibc
#endif

/// The epoll reactor, on socket pairs: readiness, progress, deadlines, closing, cancellation.
@Suite("Reactor: readiness on socket pairs")
struct ReactorTests {
  /// A registered non-blocking socket pair, deregistered and closed by `close()`.
  struct Pair {
    let ours: Int32
    let theirs: Int32

    init() throws {
      var fds: [Int32] = [-1, -1]
      guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds) == 0 else {
        throw POSIXError(.EMFILE)
      }
      ours = fds[0]
      theirs = fds[1]
      try Reactor.shared.register(fd: ours)
    }

    func close() {
      Reactor.shared.deregister(fd: ours)
      Glibc.close(ours)
      Glibc.close(theirs)
    }
  }

  @Test("a reader is woken when the other end writes")
  func readable() async throws {
    let pair = try Pair()
    defer { pair.close() }
    let reactor = Reactor.shared
    let waiting = Task {
      try await reactor.wait(fd: pair.ours, for: .readable, generation: reactor.generation(of: pair.ours))
    }
    var byte: UInt8 = 1
    #expect(Glibc.write(pair.theirs, &byte, 1) == 1)
    let wakeup = try await waiting.value
    #expect(wakeup == .ready || wakeup == .progress)
    #expect(Glibc.read(pair.ours, &byte, 1) == 1)
  }

  @Test("an empty socket buffer is writable at once")
  func writable() async throws {
    let pair = try Pair()
    defer { pair.close() }
    let wakeup = try await Reactor.shared.wait(
      fd: pair.ours, for: .writable, generation: Reactor.shared.generation(of: pair.ours))
    #expect(wakeup == .ready)
  }

  @Test("progress reported on a descriptor wakes its waiters; a stale generation does not wait")
  func progress() async throws {
    let pair = try Pair()
    defer { pair.close() }
    let reactor = Reactor.shared
    let generation = reactor.generation(of: pair.ours)
    let waiting = Task { try await reactor.wait(fd: pair.ours, for: .readable, generation: generation) }
    // Whether the waiter is registered yet or not, progress after `generation` resumes it.
    reactor.wakeAll(fd: pair.ours)
    #expect(try await waiting.value == .progress)
    #expect(try await reactor.wait(fd: pair.ours, for: .readable, generation: generation) == .progress)
  }

  @Test("a deadline ends the wait")
  func deadline() async throws {
    let pair = try Pair()
    defer { pair.close() }
    let reactor = Reactor.shared
    let past = try await reactor.wait(
      fd: pair.ours, for: .readable, generation: reactor.generation(of: pair.ours), deadline: .now - .seconds(1))
    #expect(past == .timedOut)
    let soon = try await reactor.wait(
      fd: pair.ours, for: .readable, generation: reactor.generation(of: pair.ours), deadline: .now + .milliseconds(50))
    #expect(soon == .timedOut)
  }

  @Test("waiters of a deregistered descriptor hear it")
  func closed() async throws {
    let pair = try Pair()
    let reactor = Reactor.shared
    let generation = reactor.generation(of: pair.ours)
    let waiting = Task { try await reactor.wait(fd: pair.ours, for: .readable, generation: generation) }
    while !waiting.isCancelled, reactor.waiterCount(fd: pair.ours) == 0 { await Task.yield() }
    pair.close()
    await #expect(throws: Reactor.Closed.self) { try await waiting.value }
  }

  @Test("a cancelled waiter leaves at once")
  func cancelled() async throws {
    let pair = try Pair()
    defer { pair.close() }
    let reactor = Reactor.shared
    let waiting = Task {
      try await reactor.wait(fd: pair.ours, for: .readable, generation: reactor.generation(of: pair.ours))
    }
    while reactor.waiterCount(fd: pair.ours) == 0 { await Task.yield() }
    waiting.cancel()
    await #expect(throws: CancellationError.self) { try await waiting.value }
    #expect(reactor.waiterCount(fd: pair.ours) == 0)
  }

  @Test("a descriptor epoll cannot watch is refused with its errno")
  func unwatchable() throws {
    let path = NSTemporaryDirectory() + "reactor-\(UUID().uuidString)"
    let fd = open(path, O_CREAT | O_RDWR, 0o600)
    defer {
      Glibc.close(fd)
      unlink(path)
    }
    #expect(fd >= 0)
    // Regular files do not support epoll: EPERM.
    let error = try #require(throws: Reactor.WatchFailed.self) { try Reactor.shared.register(fd: fd) }
    #expect(error.errno == EPERM)
    #expect(error.description.contains("cannot watch"))
  }
}
