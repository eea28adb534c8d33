#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import Dispatch
import Synchronization

/// Turns SIGINT (Ctrl-C) into a call of `onInterrupt` (which cancels the run) while installed:
/// the signal is ignored by the process and delivered through a `DispatchSource` instead.
final class InterruptWatcher: Sendable {
  private final class Flag: Sendable {
    let value = Atomic<Bool>(false)
  }
  private let flag = Flag()
  nonisolated(unsafe) private let source: any DispatchSourceSignal

  init(onInterrupt: @escaping @Sendable () -> Void) {
    signal(SIGINT, SIG_IGN)
    source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
    source.setEventHandler { [flag] in
      flag.value.store(true, ordering: .relaxed)
      onInterrupt()
    }
    source.resume()
  }

  /// Whether SIGINT arrived.
  var interrupted: Bool { flag.value.load(ordering: .relaxed) }

  /// Stops watching and restores the default action.
  func stop() {
    source.cancel()
    signal(SIGINT, SIG_DFL)
  }
}
