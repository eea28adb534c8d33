import Dispatch
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Local file reads and writes, run on a Dispatch queue so that disk I/O never blocks a thread of
/// the cooperative pool.
enum LocalFileIO {
  private static let queue = DispatchQueue(label: "apssh.file-io", attributes: .concurrent)

  /// Runs `body` on the I/O queue and returns its result.
  static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
      queue.async { continuation.resume(with: Result { try body() }) }
    }
  }

  /// Reads up to `buffer.capacity` bytes from `fd`; 0 at end of file.
  static func read(_ fd: Int32, into buffer: ReadBuffer, path: String) async throws -> Int {
    try await run {
      while true {
        let count = Glibc.read(fd, buffer.pointer, buffer.capacity)
        if count >= 0 { return count }
        if errno != EINTR { throw LocalFileError(path: path, what: "read", code: errno) }
      }
    }
  }

  /// Writes `count` bytes of `buffer` to `fd`.
  static func write(_ fd: Int32, from buffer: ReadBuffer, count: Int, path: String) async throws {
    try await run {
      var written = 0
      while written < count {
        let rc = Glibc.write(fd, buffer.pointer + written, count - written)
        if rc < 0 {
          if errno == EINTR { continue }
          throw LocalFileError(path: path, what: "write", code: errno)
        }
        written += rc
      }
    }
  }
}

/// A failed local file operation.
struct LocalFileError: Error, CustomStringConvertible {
  let path: String
  let what: String
  let code: Int32
  var description: String { "cannot \(what) \(path): \(String(cString: strerror(code)))" }
}
