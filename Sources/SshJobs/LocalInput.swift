import Dispatch
import SshClient
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension CommandInput {
  /// The contents of the local file `path`, read as they are sent (each command reads the file
  /// from its start, so one input serves many hosts with bounded memory).
  /// - Throws: `CommandError` when the file cannot be opened.
  public static func file(_ path: String) throws -> CommandInput {
    try SharedInput(path: path).input
  }
}

/// Bytes that many commands read, each from the start, without holding them in memory: a local
/// file, or the local standard input read once (as `pssh -I` and clush do) and kept in an
/// unlinked temporary file while it arrives, so that a command that starts late — or reads slowly —
/// still gets all of it, and none waits for the others.
///
/// Reads happen on a dispatch queue of their own, never on the cooperative pool.
public final class SharedInput: Sendable {
  private struct State {
    /// The bytes of the file that can be read now.
    var available: Int
    /// Whether `available` is final.
    var ended: Bool
    /// Why copying stopped early, if it did.
    var failure: Int32 = 0
    var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    var nextWaiter: UInt64 = 0
  }
  private let fd: Int32
  private let state: Mutex<State>
  private let name: String

  /// Reads (pread) of every input, off the cooperative pool.
  private static let readers = DispatchQueue(label: "apssh.local-input", attributes: .concurrent)

  /// The input every command reads, from its start.
  public var input: CommandInput {
    CommandInput { [self] in
      let cursor = Mutex(0)
      return { [self] in try await next(at: cursor) }
    }
  }

  /// A local file.
  /// - Throws: `CommandError` when it cannot be opened.
  public init(path: String) throws {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      throw CommandError(host: "local", "cannot read \(path): \(String(cString: strerror(errno)))")
    }
    var info = stat()
    fstat(fd, &info)
    self.fd = fd
    name = path
    state = Mutex(State(available: Int(info.st_size), ended: true))
  }

  /// The process's standard input: a regular file is read where it is; anything else (a pipe, a
  /// terminal) is copied as it comes into a temporary file that is already unlinked.
  /// - Throws: `CommandError` when no temporary file can be made.
  public static func standardInput() throws -> SharedInput {
    var info = stat()
    if fstat(0, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG {
      return try SharedInput(path: "/proc/self/fd/0")
    }
    return try SharedInput(copying: 0)
  }

  /// Copies `source` (a pipe, a terminal) into a new unlinked temporary file, in the background.
  init(copying source: Int32) throws {
    let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    var template = Array((directory + "/apssh-stdin-XXXXXX").utf8CString)
    let fd = mkstemp(&template)
    guard fd >= 0 else {
      throw CommandError(
        host: "local", "cannot make a temporary file for the input in \(directory): \(String(cString: strerror(errno)))"
      )
    }
    unlink(template)
    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    self.fd = fd
    name = "standard input"
    state = Mutex(State(available: 0, ended: false))
    let copier = DispatchQueue(label: "apssh.stdin-copier")
    copier.async { [self] in copy(from: source) }
  }

  deinit { close(fd) }

  /// Reads `source` to its end into the file, telling the readers as bytes arrive.
  private func copy(from source: Int32) {
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    defer { buffer.deallocate() }
    var offset = 0
    while true {
      let count = Glibc.read(source, buffer, 64 * 1024)
      if count < 0 && errno == EINTR { continue }
      if count <= 0 {
        finish(failure: count < 0 ? errno : 0)
        return
      }
      var written = 0
      while written < count {
        let rc = pwrite(fd, buffer + written, count - written, off_t(offset + written))
        if rc < 0 {
          if errno == EINTR { continue }
          finish(failure: errno)
          return
        }
        written += rc
      }
      offset += count
      let waiters = state.withLock { state in
        state.available = offset
        return take(&state)
      }
      for waiter in waiters { waiter.resume() }
    }
  }

  private func finish(failure: Int32) {
    let waiters = state.withLock { state in
      state.ended = true
      state.failure = failure
      return take(&state)
    }
    for waiter in waiters { waiter.resume() }
  }

  private func take(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
    defer { state.waiters = [:] }
    return Array(state.waiters.values)
  }

  /// The next chunk for the reader at `cursor`, nil at the end.
  private func next(at cursor: borrowing Mutex<Int>) async throws -> [UInt8]? {
    while true {
      let offset = cursor.withLock { $0 }
      let (available, ended, failure) = state.withLock { ($0.available, $0.ended, $0.failure) }
      if offset < available {
        let chunk = try await read(at: offset, count: min(64 * 1024, available - offset))
        cursor.withLock { $0 += chunk.count }
        return chunk
      }
      if ended {
        if failure != 0 {
          throw CommandError(host: "local", "cannot read the \(name): \(String(cString: strerror(failure)))")
        }
        return nil
      }
      await waitForMore(than: available)
    }
  }

  /// `count` bytes at `offset` of the file, read off the cooperative pool.
  private func read(at offset: Int, count: Int) async throws -> [UInt8] {
    let fd = self.fd
    let (bytes, failure) = await withCheckedContinuation {
      (continuation: CheckedContinuation<([UInt8], Int32), Never>) in
      Self.readers.async {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
          let rc = bytes.withUnsafeMutableBytes {
            pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done))
          }
          if rc < 0 && errno == EINTR { continue }
          if rc < 0 { return continuation.resume(returning: ([], errno)) }
          if rc == 0 { break }
          done += rc
        }
        continuation.resume(returning: (Array(bytes[0..<done]), 0))
      }
    }
    if failure != 0 {
      throw CommandError(host: "local", "cannot read the \(name): \(String(cString: strerror(failure)))")
    }
    return bytes
  }

  /// Waits until more than `available` bytes are there, or the end, or the task is cancelled.
  private func waitForMore(than available: Int) async {
    let id = state.withLock { state -> UInt64 in
      state.nextWaiter += 1
      return state.nextWaiter
    }
    await withTaskCancellationHandler {
      await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let resumeNow = state.withLock { state -> Bool in
          if state.available > available || state.ended || Task.isCancelled { return true }
          state.waiters[id] = continuation
          return false
        }
        if resumeNow { continuation.resume() }
      }
    } onCancel: {
      let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
      waiter?.resume()
    }
  }
}
