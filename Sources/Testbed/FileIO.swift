import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Small file helpers (whole-file reads and writes, permissions).
enum FileIO {
  /// The content of a file as UTF-8 text, or nil if it cannot be read. Reads until end of file
  /// (`/proc` files report size 0 and are produced a page at a time).
  static func read(_ path: String) -> String? {
    readBytes(path).map { String(decoding: $0, as: UTF8.self) }
  }

  /// The bytes of a file, read until end of file.
  static func readBytes(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var result: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
      if count < 0 && errno == EINTR { continue }
      if count < 0 { return nil }
      if count == 0 { return result }
      result.append(contentsOf: buffer[0..<count])
    }
  }

  /// Writes `text` to `path` (atomically replacing it) with the given mode.
  static func write(_ text: String, to path: String, mode: Int = 0o644) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    chmod(path, mode_t(mode))
  }

  /// Whether a path exists.
  static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

  /// Removes a file or a directory tree, ignoring errors.
  static func remove(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

  /// The last `limit` characters of a log file, for error messages.
  static func tail(_ path: String, limit: Int = 4000) -> String {
    let text = read(path) ?? "(no log)"
    return text.count > limit ? String(text.suffix(limit)) : text
  }
}
