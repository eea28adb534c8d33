#if canImport(Glibc)
  import Glibc
#endif

/// The allocator libssh2 sessions use, which keeps an idle session's memory small.
///
/// libssh2 1.10 allocates each session as one 55 KB struct (a 16 KiB input buffer and a 35,000-byte
/// output buffer inside it) and zero-fills all of it, so every page of it becomes resident, although
/// a session running short commands only ever touches the first page or two of each buffer: at
/// 1,000 connections that is 53 MiB, most of it zeros. Large blocks therefore come from their own
/// anonymous mapping, and ``releaseZeroPages(of:)`` hands the pages still all zero back to the
/// kernel once the session is set up: Linux maps them again, zero-filled, on their next use, so
/// their contents do not change and only the pages used stay resident.
///
/// Every block carries a 16-byte header (its size, and whether it is mapped), so that `free` and
/// `realloc` know how it was obtained.
enum SessionMemory {
  /// Blocks at least this large get their own mapping: the session struct (54,840 bytes in 1.10),
  /// not the packets (at most `LIBSSH2_PACKET_MAXPAYLOAD`, 40,000 bytes, plus the MAC), which come
  /// and go with every read and would cost an `mmap` and a `munmap` each.
  static let mappedThreshold = 48 * 1024
  private static let headerSize = 16
  private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

  typealias AllocFunction =
    @convention(c) (Int, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) ->
    UnsafeMutableRawPointer?
  typealias FreeFunction =
    @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?)
    -> Void
  typealias ReallocFunction =
    @convention(c) (
      UnsafeMutableRawPointer?, Int, UnsafeMutablePointer<UnsafeMutableRawPointer?>?
    ) -> UnsafeMutableRawPointer?

  /// `LIBSSH2_ALLOC_FUNC`.
  static let alloc: AllocFunction = { count, _ in allocate(count) }
  /// `LIBSSH2_FREE_FUNC`.
  static let free: FreeFunction = { pointer, _ in deallocate(pointer) }
  /// `LIBSSH2_REALLOC_FUNC`.
  static let realloc: ReallocFunction = { pointer, count, _ in reallocate(pointer, count) }

  /// A block of `count` bytes, or nil when memory is exhausted.
  static func allocate(_ count: Int) -> UnsafeMutableRawPointer? {
    let total = count + headerSize
    let base: UnsafeMutableRawPointer
    let mapped = count >= mappedThreshold
    if mapped {
      let raw = mmap(nil, roundedToPages(total), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
      guard let raw, raw != MAP_FAILED else { return nil }
      base = raw
    } else {
      guard let raw = Glibc.malloc(total) else { return nil }
      base = raw
    }
    base.storeBytes(of: count, as: Int.self)
    base.storeBytes(of: mapped ? 1 : 0, toByteOffset: 8, as: Int.self)
    return base + headerSize
  }

  /// Frees a block of ``allocate(_:)``.
  static func deallocate(_ pointer: UnsafeMutableRawPointer?) {
    guard let pointer else { return }
    let (base, count, mapped) = header(of: pointer)
    if mapped {
      munmap(base, roundedToPages(count + headerSize))
    } else {
      Glibc.free(base)
    }
  }

  /// Resizes a block of ``allocate(_:)``, keeping its contents (up to the smaller size).
  static func reallocate(_ pointer: UnsafeMutableRawPointer?, _ count: Int) -> UnsafeMutableRawPointer? {
    guard let pointer else { return allocate(count) }
    let (base, oldCount, mapped) = header(of: pointer)
    if !mapped && count < mappedThreshold {
      guard let raw = Glibc.realloc(base, count + headerSize) else { return nil }
      raw.storeBytes(of: count, as: Int.self)
      return raw + headerSize
    }
    guard let fresh = allocate(count) else { return nil }
    fresh.copyMemory(from: pointer, byteCount: min(count, oldCount))
    deallocate(pointer)
    return fresh
  }

  /// Gives back to the kernel the pages of a mapped block that hold only zeros; returns how many.
  @discardableResult
  static func releaseZeroPages(of pointer: UnsafeMutableRawPointer) -> Int {
    let (base, count, mapped) = header(of: pointer)
    guard mapped else { return 0 }
    let length = roundedToPages(count + headerSize)
    var released = 0
    var offset = 0
    while offset < length {
      let page = base + offset
      if isZero(page, pageSize) {
        // Private anonymous memory: the next access gets a zero-filled page, as it is now.
        if madvise(page, pageSize, MADV_DONTNEED) == 0 { released += 1 }
      }
      offset += pageSize
    }
    return released
  }

  private static func header(of pointer: UnsafeMutableRawPointer) -> (UnsafeMutableRawPointer, Int, Bool) {
    let base = pointer - headerSize
    return (base, base.load(as: Int.self), base.load(fromByteOffset: 8, as: Int.self) != 0)
  }

  private static func roundedToPages(_ count: Int) -> Int {
    (count + pageSize - 1) / pageSize * pageSize
  }

  private static func isZero(_ page: UnsafeMutableRawPointer, _ count: Int) -> Bool {
    let words = page.assumingMemoryBound(to: UInt64.self)
    for index in 0..<(count / 8) where words[index] != 0 { return false }
    return true
  }
}
