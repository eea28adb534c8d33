import Synchronization

/// What a command reads on its standard input: nothing (end-of-file at once, as `ssh host cmd
/// < /dev/null`), or chunks of bytes then end-of-file.
///
/// An input makes a new reader for each command that runs with it, so the same input can go to
/// many hosts (and to a command run again); how much of it is in memory is up to the reader:
/// ``bytes(_:)`` holds its bytes, SshJobs' file and standard-input sources read as they go.
public struct CommandInput: Sendable {
  /// Gives the next chunk of one command's input, or nil at its end.
  public typealias Reader = @Sendable () async throws -> [UInt8]?

  /// Makes the reader of one command; nil for no input at all.
  public let makeReader: (@Sendable () -> Reader)?

  /// No input: the command reads end-of-file at once.
  public static let none = CommandInput(makeReader: nil)

  /// These bytes, then end-of-file.
  public static func bytes(_ bytes: [UInt8]) -> CommandInput {
    CommandInput {
      let cursor = Cursor(total: bytes.count)
      return {
        guard let range = cursor.next(64 * 1024) else { return nil }
        return Array(bytes[range])
      }
    }
  }

  /// The chunks `makeReader`'s reader gives, then end-of-file; the reader is asked for the next
  /// chunk only once the previous one is sent (the remote window bounds what is in flight).
  public init(makeReader: (@Sendable () -> Reader)?) {
    self.makeReader = makeReader
  }

  /// Whether there is no input.
  public var isNone: Bool { makeReader == nil }

  /// Where a reader of `bytes` stands.
  private final class Cursor: Sendable {
    private let offset = Mutex(0)
    let total: Int
    init(total: Int) { self.total = total }

    /// The next range of at most `size` bytes, nil at the end.
    func next(_ size: Int) -> Range<Int>? {
      offset.withLock { offset in
        guard offset < total else { return nil }
        defer { offset = min(total, offset + size) }
        return offset..<min(total, offset + size)
      }
    }
  }
}
