import Foundation

/// Runs the OpenSSH client (or another tool) through Foundation's Process for the tests.
struct ToolResult: Sendable {
  var status: Int32
  var stdout: String
  var stderr: String
}

/// A running tool whose outcome can be awaited.
final class RunningTool: Sendable {
  let process: Process
  private let outPipe: Pipe
  private let errPipe: Pipe
  private let finished: AsyncStream<Int32>

  init(_ path: String, _ arguments: [String]) throws {
    process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    outPipe = Pipe()
    errPipe = Pipe()
    process.standardOutput = outPipe
    process.standardError = errPipe
    process.standardInput = FileHandle.nullDevice
    let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
    finished = stream
    process.terminationHandler = { process in
      continuation.yield(process.terminationStatus)
      continuation.finish()
    }
    try process.run()
  }

  /// Waits for the exit and collects the (small) outputs.
  func result() async -> ToolResult {
    var status: Int32 = -1
    for await value in finished { status = value }
    let out = outPipe.fileHandleForReading.readDataToEndOfFile()
    let err = errPipe.fileHandleForReading.readDataToEndOfFile()
    return ToolResult(
      status: status, stdout: String(decoding: out, as: UTF8.self),
      stderr: String(decoding: err, as: UTF8.self))
  }
}

/// `ssh -F config [options] address command…`.
func ssh(config: String, _ address: String, _ command: String, options: [String] = [])
  async throws -> ToolResult
{
  try await RunningTool("/usr/bin/ssh", ["-F", config] + options + [address, command]).result()
}
