import Dispatch
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Turns SIGINT (Ctrl-C), SIGTERM (CI cancel, `timeout`, systemd) and SIGHUP (terminal closed)
/// into a call of `onSignal` (which stops the run) while installed: the signals are ignored by the
/// process and delivered through `DispatchSource`s instead. The first one counts; later ones are
/// ignored while the run stops (stopping is bounded).
final class SignalWatcher: Sendable {
  /// The signals watched.
  static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

  private final class First: Sendable {
    let value = Atomic<Int32>(0)
  }
  private let first = First()
  nonisolated(unsafe) private let sources: [any DispatchSourceSignal]

  init(onSignal: @escaping @Sendable (Int32) -> Void) {
    let first = self.first
    sources = Self.signals.map { number in
      Glibc.signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler {
        if first.value.compareExchange(expected: 0, desired: number, ordering: .relaxed).exchanged { onSignal(number) }
      }
      source.resume()
      return source
    }
  }

  /// The first signal received, if any.
  var received: Int32? {
    let number = first.value.load(ordering: .relaxed)
    return number == 0 ? nil : number
  }

  /// Stops watching and restores the default actions.
  func stop() {
    for source in sources { source.cancel() }
    for number in Self.signals { Glibc.signal(number, SIG_DFL) }
  }
}

/// The process's standard descriptors, made safe for a tool that writes to a pipe and opens many
/// descriptors of its own.
enum StandardDescriptors {
  /// Replaces a closed stdin, stdout or stderr by `/dev/null`, so that descriptors the process
  /// opens (epoll, eventfd, sockets) never take the numbers 0–2 — or a reactor wake-up would be
  /// written to "stderr" — and ignores SIGPIPE: a write to a closed pipe fails with `EPIPE`, which
  /// the output sink reports, instead of killing the process before it stops its remote commands.
  static func prepare() {
    for fd in Int32(0)...2 where fcntl(fd, F_GETFD) < 0 && errno == EBADF {
      let opened = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY)
      if opened >= 0 && opened != fd {
        dup2(opened, fd)
        close(opened)
      }
    }
    signal(SIGPIPE, SIG_IGN)
  }
}
