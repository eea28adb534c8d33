import CLibSSH2
import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// The one readiness source of the process: an epoll loop on a single thread.
///
/// A task that met `EAGAIN` on a file descriptor awaits ``wait(fd:for:generation:deadline:)``; the
/// reactor thread resumes it when the descriptor is ready in one of the requested directions, when
/// its deadline passes, or when another task reports progress on the same descriptor with
/// ``wakeAll(fd:)`` (libssh2 may have buffered data for the waiter's channel, so the socket will
/// not become readable again for it). No thread is ever blocked but the reactor's own.
final class Reactor: Sendable {
  /// The process-wide reactor.
  static let shared = Reactor()

  /// Directions a waiter is interested in.
  struct Interest: OptionSet, Sendable {
    let rawValue: UInt32
    static let readable = Interest(rawValue: 1)
    static let writable = Interest(rawValue: 2)
  }

  /// Why a waiter was resumed.
  enum Wakeup: Sendable, Equatable {
    /// The descriptor is ready (or in error) in a requested direction.
    case ready
    /// Another task made progress on the descriptor.
    case progress
    /// The deadline passed.
    case timedOut
  }

  /// The descriptor was deregistered (closed) while a task waited on it.
  struct Closed: Error {}

  /// epoll refused to watch a descriptor (`errno`: `ENOMEM`, `ENOSPC` when
  /// `/proc/sys/fs/epoll/max_user_watches` is reached, …).
  struct WatchFailed: Error, CustomStringConvertible {
    let fd: Int32
    let errno: Int32
    var description: String { "cannot watch descriptor \(fd) for readiness: \(String(cString: strerror(errno)))" }
  }

  private struct Waiter {
    var id: UInt64
    var interest: Interest
    var deadline: ContinuousClock.Instant?
    var continuation: CheckedContinuation<Wakeup, any Error>
  }

  private struct Descriptor {
    var waiters: [Waiter] = []
    var generation: UInt64 = 0
    /// The interest armed in epoll (one-shot), empty when disarmed.
    var armed: Interest = []
  }

  private struct State {
    var descriptors: [Int32: Descriptor] = [:]
    var nextID: UInt64 = 0
    /// A lower bound of the waiters' deadlines; the loop rescans when it passes.
    var earliestDeadline: ContinuousClock.Instant?
  }

  private let state = Mutex(State())
  private let epollFD: Int32
  private let eventFD: Int32

  private init() {
    epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
    eventFD = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
    precondition(epollFD >= 0 && eventFD >= 0, "cannot create the epoll reactor: errno \(errno)")
    var event = epoll_event()
    event.events = EPOLLIN.rawValue
    event.data.fd = eventFD
    precondition(
      epoll_ctl(epollFD, EPOLL_CTL_ADD, eventFD, &event) == 0, "cannot watch the reactor's eventfd: errno \(errno)")
    let thread = Thread { [self] in self.loop() }
    thread.name = "apssh-reactor"
    thread.start()
  }

  /// Starts watching `fd`; call once after creating the descriptor.
  /// - Throws: ``WatchFailed`` when epoll refuses the descriptor.
  func register(fd: Int32) throws {
    // Disarmed one-shot: even EPOLLHUP/EPOLLERR, which epoll always reports, wait for arming.
    let failure = control(EPOLL_CTL_ADD, fd: fd, events: EPOLLONESHOT.rawValue)
    guard failure == 0 else { throw WatchFailed(fd: fd, errno: failure) }
    state.withLock { $0.descriptors[fd] = Descriptor() }
  }

  /// Stops watching `fd`; call before closing it. Its waiters throw ``Closed``.
  func deregister(fd: Int32) {
    let (known, waiters) = state.withLock { state -> (Bool, [Waiter]) in
      guard let descriptor = state.descriptors.removeValue(forKey: fd) else { return (false, []) }
      return (true, descriptor.waiters)
    }
    let failure = control(EPOLL_CTL_DEL, fd: fd, events: 0)
    // A descriptor we registered must be in the epoll set; ENOENT/EBADF for an unknown one is fine.
    assert(!known || failure == 0, "epoll_ctl(DEL, \(fd)) failed: errno \(failure)")
    for waiter in waiters { waiter.continuation.resume(throwing: Closed()) }
  }

  /// `epoll_ctl`; returns 0, or the `errno` of the failure.
  private func control(_ operation: Int32, fd: Int32, events: UInt32) -> Int32 {
    var event = epoll_event()
    event.events = events
    event.data.fd = fd
    return epoll_ctl(epollFD, operation, fd, &event) == 0 ? 0 : errno
  }

  /// How many tasks wait on `fd` now (for tests).
  func waiterCount(fd: Int32) -> Int {
    state.withLock { $0.descriptors[fd]?.waiters.count ?? 0 }
  }

  /// The progress generation of `fd`: read it before an operation that may return `EAGAIN`.
  func generation(of fd: Int32) -> UInt64 {
    state.withLock { $0.descriptors[fd]?.generation ?? 0 }
  }

  /// Reports progress on `fd`: every task waiting on it is resumed with ``Wakeup/progress``.
  func wakeAll(fd: Int32) {
    let waiters = state.withLock { state -> [Waiter] in
      guard var descriptor = state.descriptors[fd] else { return [] }
      descriptor.generation &+= 1
      let waiters = descriptor.waiters
      descriptor.waiters.removeAll(keepingCapacity: true)
      state.descriptors[fd] = descriptor
      return waiters
    }
    for waiter in waiters { waiter.continuation.resume(returning: .progress) }
  }

  /// Waits until `fd` is ready for `interest`, progress is reported on it after `generation`, or
  /// `deadline` passes. An empty `interest` waits for progress (or the deadline) only.
  func wait(
    fd: Int32, for interest: Interest, generation: UInt64, deadline: ContinuousClock.Instant? = nil
  ) async throws -> Wakeup {
    let id = state.withLock { state -> UInt64 in
      state.nextID &+= 1
      return state.nextID
    }
    return try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Wakeup, any Error>) in
        enum Outcome { case waiting, resume(Wakeup), fail(any Error) }
        var wakeEpoll = false
        let outcome: Outcome = state.withLock { state in
          guard var descriptor = state.descriptors[fd] else { return .fail(Closed()) }
          if Task.isCancelled { return .fail(CancellationError()) }
          if descriptor.generation != generation { return .resume(.progress) }
          if let deadline, deadline <= .now { return .resume(.timedOut) }
          let wanted = descriptor.armed.union(interest)
          if wanted != descriptor.armed {
            let failure = arm(fd: fd, interest: wanted)
            if failure != 0 { return .fail(WatchFailed(fd: fd, errno: failure)) }
            descriptor.armed = wanted
          }
          descriptor.waiters.append(Waiter(id: id, interest: interest, deadline: deadline, continuation: continuation))
          state.descriptors[fd] = descriptor
          if let deadline, state.earliestDeadline.map({ deadline < $0 }) ?? true {
            state.earliestDeadline = deadline
            wakeEpoll = true
          }
          return .waiting
        }
        switch outcome {
        case .waiting:
          if wakeEpoll { poke() }
        case .resume(let wakeup): continuation.resume(returning: wakeup)
        case .fail(let error): continuation.resume(throwing: error)
        }
      }
    } onCancel: {
      let waiter = state.withLock { state -> Waiter? in
        guard var descriptor = state.descriptors[fd],
          let index = descriptor.waiters.firstIndex(where: { $0.id == id })
        else { return nil }
        let waiter = descriptor.waiters.remove(at: index)
        state.descriptors[fd] = descriptor
        return waiter
      }
      waiter?.continuation.resume(throwing: CancellationError())
    }
  }

  /// Arms the one-shot watch of `fd` for `interest`; returns 0 or the `errno` of the failure.
  private func arm(fd: Int32, interest: Interest) -> Int32 {
    var bits = EPOLLONESHOT.rawValue
    if interest.contains(.readable) { bits |= EPOLLIN.rawValue | EPOLLRDHUP.rawValue }
    if interest.contains(.writable) { bits |= EPOLLOUT.rawValue }
    return control(EPOLL_CTL_MOD, fd: fd, events: bits)
  }

  private func poke() {
    var one: UInt64 = 1
    _ = Glibc.write(eventFD, &one, 8)
  }

  private func loop() {
    let capacity = 256
    let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
    var ready: [(CheckedContinuation<Wakeup, any Error>, Result<Wakeup, any Error>)] = []
    while true {
      let timeout = state.withLock { state -> Int32 in
        guard let earliest = state.earliestDeadline else { return -1 }
        let remaining = earliest - .now
        if remaining <= .zero { return 0 }
        let (seconds, attoseconds) = remaining.components
        return Int32(min(seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000, 60_000))
      }
      let count = epoll_wait(epollFD, events, Int32(capacity), timeout)
      if count < 0 && errno != EINTR { fatalError("epoll_wait failed: errno \(errno)") }
      state.withLock { state in
        for index in 0..<max(0, Int(count)) {
          let event = events[index]
          let fd = event.data.fd
          if fd == eventFD {
            var value: UInt64 = 0
            _ = Glibc.read(eventFD, &value, 8)
            continue
          }
          guard var descriptor = state.descriptors[fd] else { continue }
          var happened: Interest = []
          let bits = event.events
          if bits & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue) != 0 { happened.insert(.readable) }
          if bits & EPOLLOUT.rawValue != 0 { happened.insert(.writable) }
          if bits & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 { happened = [.readable, .writable] }
          descriptor.armed = []
          var remaining: Interest = []
          descriptor.waiters.removeAll { waiter in
            if !waiter.interest.isDisjoint(with: happened) {
              ready.append((waiter.continuation, .success(.ready)))
              return true
            }
            remaining.formUnion(waiter.interest)
            return false
          }
          if !remaining.isEmpty {
            let failure = arm(fd: fd, interest: remaining)
            if failure == 0 {
              descriptor.armed = remaining
            } else {
              // Nothing would wake them: they hear of it now.
              for waiter in descriptor.waiters {
                ready.append((waiter.continuation, .failure(WatchFailed(fd: fd, errno: failure))))
              }
              descriptor.waiters.removeAll()
            }
          }
          state.descriptors[fd] = descriptor
        }
        if let earliest = state.earliestDeadline, earliest <= .now {
          let now = ContinuousClock.now
          var next: ContinuousClock.Instant?
          for fd in Array(state.descriptors.keys) {
            guard var descriptor = state.descriptors[fd],
              descriptor.waiters.contains(where: { $0.deadline != nil })
            else { continue }
            descriptor.waiters.removeAll { waiter in
              guard let deadline = waiter.deadline else { return false }
              if deadline <= now {
                ready.append((waiter.continuation, .success(.timedOut)))
                return true
              }
              if next.map({ deadline < $0 }) ?? true { next = deadline }
              return false
            }
            state.descriptors[fd] = descriptor
          }
          state.earliestDeadline = next
        }
      }
      for (continuation, wakeup) in ready { continuation.resume(with: wakeup) }
      ready.removeAll(keepingCapacity: true)
    }
  }
}
