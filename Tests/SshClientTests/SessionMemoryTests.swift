import Foundation
import Testing

@testable import SshClient

#if canImport(Glibc)
  import Glibc
#endif

@Suite("SessionMemory: libssh2's allocator")
struct SessionMemoryTests {
  private let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

  /// Which pages of `[pointer, pointer + count)` are resident (the range is widened to whole pages).
  private func residentPages(_ pointer: UnsafeMutableRawPointer, _ count: Int) -> [Bool] {
    let start = Int(bitPattern: pointer) / pageSize * pageSize
    let end = Int(bitPattern: pointer) + count
    let pages = (end - start + pageSize - 1) / pageSize
    var vector = [UInt8](repeating: 0, count: pages)
    let rc = mincore(UnsafeMutableRawPointer(bitPattern: start), pages * pageSize, &vector)
    #expect(rc == 0)
    return vector.map { $0 & 1 == 1 }
  }

  @Test("small and large blocks keep their contents through realloc across the threshold")
  func roundTrip() throws {
    let small = try #require(SessionMemory.allocate(100))
    for index in 0..<100 { small.storeBytes(of: UInt8(index), toByteOffset: index, as: UInt8.self) }
    // Grown past the threshold: now a mapping of its own.
    let large = try #require(SessionMemory.reallocate(small, SessionMemory.mappedThreshold + 5000))
    for index in 0..<100 { #expect(large.load(fromByteOffset: index, as: UInt8.self) == UInt8(index)) }
    large.storeBytes(of: 0xAB, toByteOffset: SessionMemory.mappedThreshold + 4999, as: UInt8.self)
    // Shrunk below it again: back on the heap, the first bytes kept.
    let back = try #require(SessionMemory.reallocate(large, 50))
    for index in 0..<50 { #expect(back.load(fromByteOffset: index, as: UInt8.self) == UInt8(index)) }
    // A heap block grown within the heap.
    let grown = try #require(SessionMemory.reallocate(back, 4000))
    for index in 0..<50 { #expect(grown.load(fromByteOffset: index, as: UInt8.self) == UInt8(index)) }
    SessionMemory.deallocate(grown)
    SessionMemory.deallocate(nil)
    #expect(SessionMemory.reallocate(nil, 10).map { SessionMemory.deallocate($0) } != nil)
  }

  @Test("pages still all zero are given back, the others stay, and every byte reads as before")
  func zeroPagesReleased() throws {
    let count = 55_000
    let block = try #require(SessionMemory.allocate(count))
    defer { SessionMemory.deallocate(block) }
    block.initializeMemory(as: UInt8.self, repeating: 0, count: count)
    let marked = [3 * pageSize + 17, count - 1]
    for offset in marked { block.storeBytes(of: 0x5A, toByteOffset: offset, as: UInt8.self) }
    #expect(residentPages(block, count).allSatisfy { $0 })

    let released = SessionMemory.releaseZeroPages(of: block)
    let resident = residentPages(block, count)
    // The header's page, and the two marked pages, stay; all the others went.
    #expect(released == resident.count - 3)
    #expect(resident.filter { $0 }.count == 3)
    for offset in marked {
      let page = (Int(bitPattern: block) + offset) / pageSize - Int(bitPattern: block) / pageSize
      #expect(resident[page])
      #expect(block.load(fromByteOffset: offset, as: UInt8.self) == 0x5A)
    }
    var sum = 0
    for offset in 0..<count { sum += Int(block.load(fromByteOffset: offset, as: UInt8.self)) }
    #expect(sum == 0x5A * marked.count)
  }

  @Test("heap blocks are left alone, packets included")
  func heapBlocksUntouched() throws {
    // The largest packet payload libssh2 allocates (LIBSSH2_PACKET_MAXPAYLOAD and a MAC): not a
    // mapping of its own, which would cost two system calls per packet read.
    for count in [1000, 40_000 + 64] {
      let block = try #require(SessionMemory.allocate(count))
      defer { SessionMemory.deallocate(block) }
      block.initializeMemory(as: UInt8.self, repeating: 0, count: count)
      #expect(SessionMemory.releaseZeroPages(of: block) == 0)
    }
  }

  @Test("a connected session keeps only the pages it used resident, and works")
  func liveSession() async throws {
    let testbed = try await TestHosts.testbed()
    let connection = TestHosts.connection(testbed, host: 5)
    let result = try await connection.run("echo resident")
    #expect(result.stdout == Array("resident\n".utf8))
    let session = try #require(connection.session)
    // libssh2 1.10's session struct is about 55 KB (14 pages): a handshake, authentication and a
    // command touch a handful of them.
    let resident = residentPages(UnsafeMutableRawPointer(session), 54_000).filter { $0 }.count
    #expect(resident <= 8, "resident pages of the session: \(resident)")
    let again = try await connection.run("echo again")
    #expect(again.stdout == Array("again\n".utf8))
    await connection.close()
  }
}
