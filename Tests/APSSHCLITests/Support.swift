import APSSHCLI
import Foundation
import SshJobs
import Testbed
import Testing

/// What a tool printed and returned.
struct CLIResult: Sendable {
  var code: Int32
  var stdout: String
  var stderr: String
}

/// Runs a tool in-process with a buffer sink.
/// - Parameter columns: the width of the pretended terminal (none by default).
func runTool(
  _ main: (@Sendable ([String], CLIEnvironment) async -> Int32), _ arguments: [String], terminal: Bool = false,
  columns: Int? = nil
) async -> CLIResult {
  let sink = BufferSink()
  let environment = CLIEnvironment(sink: sink, stderrIsTerminal: terminal, terminalColumns: { columns })
  let code = await main(arguments, environment)
  return CLIResult(code: code, stdout: sink.stdoutText, stderr: sink.stderrText)
}

/// `apssh` in-process.
func apssh(_ arguments: [String], terminal: Bool = false, columns: Int? = nil) async -> CLIResult {
  await runTool({ await APSSH.main(arguments: $0, environment: $1) }, arguments, terminal: terminal, columns: columns)
}

/// `appush` in-process.
func appush(_ arguments: [String]) async -> CLIResult {
  await runTool({ await APPush.main(arguments: $0, environment: $1) }, arguments)
}

/// `appull` in-process.
func appull(_ arguments: [String]) async -> CLIResult {
  await runTool({ await APPull.main(arguments: $0, environment: $1) }, arguments)
}

/// The shared testbed and the options every run against it needs.
struct Fleet: Sendable {
  let testbed: Testbed

  static func shared() async throws -> Fleet { Fleet(testbed: try await Testbed.shared()) }

  /// `-k KEY --known-hosts FILE -c 60` (healthy hosts: a generous connect timeout, as a loaded
  /// machine can take seconds per handshake).
  var auth: [String] { ["-k", testbed.userKeyPath, "--known-hosts", testbed.knownHostsPath, "-c", "60"] }

  /// `user@address:port` of host `index` (0-based).
  func target(_ index: Int) -> String { testbed.targets[index] }

  /// The address of host `index`.
  func address(_ index: Int) -> String { testbed.hosts[index].address }

  /// `-t` for hosts `indices`, comma-separated.
  func targets(_ indices: [Int]) -> [String] { ["-t", indices.map { target($0) }.joined(separator: ",")] }
}

/// A fresh temporary directory.
func temporaryDirectory(_ name: String = "apssh-cli") -> String {
  let path = NSTemporaryDirectory() + "\(name)-\(UUID().uuidString.prefix(8))"
  try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

/// Writes `text` to `path`.
func write(_ text: String, to path: String) throws {
  try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

/// The package root (for examples/ and inventories/).
let packageRoot: String = {
  var url = URL(fileURLWithPath: #filePath)
  for _ in 0..<3 { url.deleteLastPathComponent() }
  return url.path
}()

/// The directory holding the built executables (next to the test bundle).
let productsDirectory: String = {
  let candidates = [
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
    Bundle.main.bundleURL,
    Bundle.main.bundleURL.deletingLastPathComponent(),
  ]
  for candidate in candidates
  where FileManager.default.isExecutableFile(atPath: candidate.appendingPathComponent("apssh").path) {
    return candidate.path
  }
  return packageRoot + "/.build/debug"
}()

/// Runs an executable of the package as a subprocess, output in files, without blocking a thread.
final class ChildProcess: @unchecked Sendable {
  let process = Process()
  private let outPath = temporaryDirectory("child") + "/out"
  private let errPath: String

  init(
    _ executable: String, _ arguments: [String], directory: String = packageRoot, environment: [String: String]? = nil,
    stdout: String? = nil, stdin: String? = nil
  ) throws {
    errPath = outPath + ".err"
    _ = FileManager.default.createFile(atPath: outPath, contents: nil)
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    process.executableURL = URL(fileURLWithPath: productsDirectory + "/" + executable)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdout ?? outPath))
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    process.standardInput =
      try stdin.map { try FileHandle(forReadingFrom: URL(fileURLWithPath: $0)) } ?? FileHandle.nullDevice
    if let environment { process.environment = environment }
  }

  /// Starts the process; `finished` resumes when it exits.
  func start() throws -> Task<CLIResult, Never> {
    let stream = AsyncStream<Int32> { continuation in
      process.terminationHandler = { process in
        continuation.yield(process.terminationStatus)
        continuation.finish()
      }
    }
    try process.run()
    let outPath = self.outPath
    let errPath = self.errPath
    return Task {
      var code: Int32 = -1
      for await status in stream { code = status }
      let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
      let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
      return CLIResult(code: code, stdout: out, stderr: err)
    }
  }

  /// Runs to the end.
  static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) async throws
    -> CLIResult
  {
    try await ChildProcess(executable, arguments, environment: environment).start().value
  }
}

/// The processes of this machine (the testbed's hosts are local processes).
enum Processes {
  /// The command lines of every process, words joined by spaces.
  static func commandLines() -> [String] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.filter { Int($0) != nil }.compactMap { pid in
      FileManager.default.contents(atPath: "/proc/\(pid)/cmdline").map { data in
        data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
      }
    }
  }

  /// How many processes run exactly `command`.
  static func count(_ command: String) -> Int { commandLines().filter { $0 == command }.count }

  /// How many processes have `marker` in their command line.
  static func count(containing marker: String) -> Int { commandLines().filter { $0.contains(marker) }.count }

  /// Polls (at most `limit`) until `condition` holds; returns whether it did.
  static func eventually(within limit: Duration = .seconds(15), _ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
      if condition() { return true }
      try await Task.sleep(for: .milliseconds(50))
    }
    return condition()
  }
}
