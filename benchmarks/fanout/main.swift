// Fan-out benchmark (issue 3): connect + exec `hostname` on N testbed hosts at once (window
// unlimited: one SshConnection per host, all concurrently).
//
//   swift build -c release --scratch-path .build-bench --product fanout-bench
//   .build-bench/release/fanout-bench --hosts 64,256 --runs 5          # the table
//   .build-bench/release/fanout-bench --hosts 64 --runs 5 --dir DIR    # reuse a running testbed
//   fanout-bench run --hosts-file F --count N ...                      # one run (child mode)
//
// Each run happens in a fresh child process so that getrusage(RUSAGE_SELF) is per run. For each run
// it reports wall time, the client's CPU time (user + sys, the whole child process), its peak RSS,
// and the floor: the machine's busy CPU time during the run (/proc/stat: total - idle - iowait
// jiffies) minus the client's own CPU during the same interval, divided by the cores. Before every
// run the parent waits for the testbed to be idle (no per-connection sshd left, machine quiet).
import Foundation
import SshClient
import Testbed

#if canImport(Glibc)
  import Glibc
#endif

// MARK: - Measuring

/// User + system CPU time of this process, and its peak RSS in bytes.
func selfUsage() -> (cpu: Double, maxRSS: Int) {
  var usage = rusage()
  getrusage(RUSAGE_SELF.rawValue, &usage)
  let cpu =
    Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
  return (cpu, usage.ru_maxrss * 1024)
}

/// Busy and total jiffies of the machine (first line of /proc/stat).
func machineJiffies() -> (busy: UInt64, total: UInt64) {
  guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
    let line = text.split(separator: "\n").first
  else { return (0, 0) }
  let fields = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
  guard fields.count >= 5 else { return (0, 0) }
  // user nice system idle iowait irq softirq steal (guest time is already in user).
  let total = fields.prefix(8).reduce(0, +)
  return (total - fields[3] - fields[4], total)
}

let jiffiesPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))

/// The 1-minute load average.
func loadAverage() -> Double {
  let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
  return Double(text.split(separator: " ").first ?? "") ?? -1
}

/// One run's figures, as the child prints them (one JSON line).
struct RunResult: Codable {
  var hosts: Int
  var wall: Double
  var clientCPU: Double
  var clientCPUInRun: Double
  var busy: Double
  var maxRSS: Int
  var failures: Int
  var firstError: String?
  var load: Double
  /// CPU time of the testbed's sshd processes and their reaped descendants during the run (set by
  /// the parent): the server's share of the floor, blind to other processes of the machine.
  var sshdCPU: Double?

  /// The machine's busy time minus the client's, spread over the cores.
  var floor: Double { max(0, busy - clientCPUInRun) / Double(cores) }
  /// The floor from sshd's own CPU only (robust when others load the machine).
  var sshdFloor: Double { (sshdCPU ?? 0) / Double(cores) }
  /// Busy CPU time of the machine that is neither the client's nor sshd's: kernel work charged to
  /// no process (about 3.7 ms per host on a quiet machine), plus other processes.
  var otherCPU: Double { max(0, busy - clientCPUInRun - (sshdCPU ?? 0)) }
}

// MARK: - Child: one run

/// `run --hosts-file F --count N --user U --key K --known-hosts KH`: connects to the first N hosts
/// of F (`address port` per line) at once, runs `hostname`, closes, prints a `RunResult`.
func childRun(_ options: [String: String]) async -> Never {
  let lines = (try? String(contentsOfFile: options["hosts-file"]!, encoding: .utf8)) ?? ""
  var targets: [(String, Int)] = lines.split(separator: "\n").compactMap { line in
    let parts = line.split(separator: " ")
    guard parts.count == 2, let port = Int(parts[1]) else { return nil }
    return (String(parts[0]), port)
  }
  if let count = options["count"].flatMap(Int.init) { targets = Array(targets.prefix(count)) }
  let user = options["user"]!
  let key = options["key"]!
  let knownHosts = options["known-hosts"]!
  let configurations = targets.map { host, port in
    SshConfiguration(
      host: host, port: port, username: user, keyPaths: [key], useAgent: false,
      hostKeyPolicy: .strict, knownHostsPath: knownHosts)
  }

  let cpuBefore = selfUsage().cpu
  let busyBefore = machineJiffies().busy
  let clock = ContinuousClock()
  let start = clock.now
  let outcomes = await withTaskGroup(of: String?.self) { group in
    for configuration in configurations {
      group.addTask {
        let connection = SshConnection(configuration: configuration)
        do {
          let result = try await connection.run("hostname")
          await connection.close()
          if result.status != .code(0) || result.stdout.isEmpty {
            return "\(configuration.label): status \(result.status), stdout \(result.stdout.count) bytes"
          }
          return nil
        } catch {
          await connection.close()
          return "\(configuration.label): \(error)"
        }
      }
    }
    var errors: [String] = []
    for await outcome in group { if let outcome { errors.append(outcome) } }
    return errors
  }
  let elapsed = clock.now - start
  let busyAfter = machineJiffies().busy
  let usage = selfUsage()
  let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
  let result = RunResult(
    hosts: configurations.count, wall: wall, clientCPU: usage.cpu, clientCPUInRun: usage.cpu - cpuBefore,
    busy: Double(busyAfter - busyBefore) / jiffiesPerSecond, maxRSS: usage.maxRSS, failures: outcomes.count,
    firstError: outcomes.first, load: loadAverage())
  let data = try! JSONEncoder().encode(result)
  print(String(decoding: data, as: UTF8.self))
  exit(outcomes.isEmpty ? 0 : 1)
}

// MARK: - Parent: testbed, idle checks, runs, table

/// The testbed the runs use: started by us, or reused from `--dir`.
struct Fleet {
  var description: TestbedDescription
  var owned: Testbed?
}

func fail(_ message: String) -> Never {
  FileHandle.standardError.write(Data("fanout-bench: \(message)\n".utf8))
  exit(2)
}

func parseOptions(_ arguments: ArraySlice<String>) -> [String: String] {
  var options: [String: String] = [:]
  var iterator = arguments.makeIterator()
  while let argument = iterator.next() {
    guard argument.hasPrefix("--") else { fail("unexpected argument \(argument)") }
    let name = String(argument.dropFirst(2))
    guard let value = iterator.next() else { fail("\(argument) needs a value") }
    options[name] = value
  }
  return options
}

/// Pids of processes whose parent is one of `parents` (sshd's per-connection processes).
func children(of parents: Set<Int32>) -> [Int32] {
  guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
  return entries.compactMap { entry -> Int32? in
    guard let pid = Int32(entry),
      let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 1, let parent = Int32(fields[1]) else { return nil }
    return parents.contains(parent) ? pid : nil
  }
}

/// CPU seconds of `pids` including their reaped children (utime + stime + cutime + cstime).
func cumulativeCPU(of pids: [Int32]) -> Double {
  var ticks: UInt64 = 0
  for pid in pids {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { continue }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 14 else { continue }
    for index in 11...14 { ticks += UInt64(fields[index]) ?? 0 }
  }
  return Double(ticks) / jiffiesPerSecond
}

/// Waits (up to 30 s) until the per-connection sshd processes are gone, hence reaped.
func waitNoSessions(_ fleet: Fleet) async {
  let listeners = Set(fleet.description.sshd.map(\.pid))
  let deadline = ContinuousClock.now + .seconds(30)
  while !children(of: listeners).isEmpty && ContinuousClock.now < deadline {
    try? await Task.sleep(for: .milliseconds(20))
  }
}

/// Waits until no per-connection sshd process is left and the machine's busy fraction over 0.5 s
/// is below 15% (or 30 s pass). Returns the busy fraction measured last.
func waitIdle(_ fleet: Fleet) async -> Double {
  let listeners = Set(fleet.description.sshd.map(\.pid))
  let deadline = ContinuousClock.now + .seconds(30)
  var fraction = 1.0
  while ContinuousClock.now < deadline {
    let leftovers = children(of: listeners)
    let before = machineJiffies()
    try? await Task.sleep(for: .milliseconds(500))
    let after = machineJiffies()
    fraction = Double(after.busy - before.busy) / Double(max(1, after.total - before.total))
    if leftovers.isEmpty && fraction < 0.15 { return fraction }
  }
  FileHandle.standardError.write(
    Data("fanout-bench: warning: testbed not idle after 30 s (busy \(Int(fraction * 100))%)\n".utf8))
  return fraction
}

/// Runs one measurement in a child process (waited for on a dispatch thread, not the pool).
func measure(count: Int, hostsFile: String, fleet: Fleet) async throws -> RunResult {
  try await withCheckedThrowingContinuation { continuation in
    DispatchQueue.global().async {
      continuation.resume(with: Result { try measureBlocking(count: count, hostsFile: hostsFile, fleet: fleet) })
    }
  }
}

func measureBlocking(count: Int, hostsFile: String, fleet: Fleet) throws -> RunResult {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
  process.arguments = [
    "run", "--hosts-file", hostsFile, "--count", String(count), "--user", fleet.description.user,
    "--key", fleet.description.userKeyPath, "--known-hosts", fleet.description.knownHostsPath,
  ]
  let pipe = Pipe()
  process.standardOutput = pipe
  try process.run()
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  guard let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
    let result = try? JSONDecoder().decode(RunResult.self, from: Data(line.utf8))
  else { throw CocoaError(.fileReadCorruptFile) }
  return result
}

func median(_ values: [Double]) -> Double {
  let sorted = values.sorted()
  guard !sorted.isEmpty else { return .nan }
  let middle = sorted.count / 2
  return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

func format(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }

func parentMain(_ options: [String: String]) async {
  let counts = (options["hosts"] ?? "64,256").split(separator: ",").compactMap { Int($0) }
  let runs = Int(options["runs"] ?? "5") ?? 5
  guard !counts.isEmpty, runs > 0 else {
    fail("usage: fanout-bench [--hosts 64,256] [--runs 5] [--dir DIR] [--out FILE]")
  }
  let needed = counts.max()!

  var fleet: Fleet
  if let directory = options["dir"], let status = try? TestbedControl.status(directory: directory), status.isRunning {
    guard status.testbed.hosts.count >= needed else {
      fail("the testbed in \(directory) has \(status.testbed.hosts.count) hosts, \(needed) needed")
    }
    fleet = Fleet(description: status.testbed, owned: nil)
    print("reusing the testbed in \(directory) (\(status.testbed.hosts.count) hosts)")
  } else {
    do {
      let testbed = try await Testbed.start(hosts: needed, directory: options["dir"])
      fleet = Fleet(description: testbed.testbedDescription, owned: testbed)
      print("started a testbed of \(needed) hosts in \(testbed.directory) as \(testbed.username)")
    } catch {
      fail("cannot start the testbed: \(error)")
    }
  }
  let hostsFile = NSTemporaryDirectory() + "fanout-bench-hosts-\(getpid())"
  let hostLines = fleet.description.hosts.map { "\($0.address) \($0.port)\n" }.joined()
  _ = FileManager.default.createFile(atPath: hostsFile, contents: Data(hostLines.utf8))
  defer { try? FileManager.default.removeItem(atPath: hostsFile) }

  // Warm-up (page cache, sshd's first fork): one small run, not reported.
  _ = await waitIdle(fleet)
  _ = try? await measure(count: min(8, needed), hostsFile: hostsFile, fleet: fleet)

  var results: [Int: [RunResult]] = [:]
  var idleBusy: [Double] = []
  // Interleaved, so that every size sees the same conditions.
  for run in 1...runs {
    for count in counts {
      idleBusy.append(await waitIdle(fleet))
      let load = loadAverage()
      let listeners = fleet.description.sshd.map(\.pid)
      let sshdBefore = cumulativeCPU(of: listeners)
      do {
        var result = try await measure(count: count, hostsFile: hostsFile, fleet: fleet)
        result.load = load
        await waitNoSessions(fleet)
        result.sshdCPU = cumulativeCPU(of: listeners) - sshdBefore
        results[count, default: []].append(result)
        print(
          "run \(run) hosts \(count): wall \(format(result.wall, 3)) s, client CPU \(format(result.clientCPU, 3)) s, "
            + "(in run \(format(result.clientCPUInRun, 3)) s), floor \(format(result.floor, 3)) s, wall/floor \(format(result.wall / max(result.floor, 1e-9))), "
            + "sshd floor \(format(result.sshdFloor, 3)) s, wall/sshd floor \(format(result.wall / max(result.sshdFloor, 1e-9))), "
            + "other CPU \(format(result.otherCPU)) s, "
            + "RSS \(result.maxRSS / 1_048_576) MiB, load \(format(result.load)), failures \(result.failures)"
            + (result.firstError.map { " (\($0))" } ?? ""))
      } catch {
        print("run \(run) hosts \(count): the child failed")
      }
    }
  }
  if let owned = fleet.owned { await owned.stop() }

  let header =
    "| hosts | wall (s) | client CPU (s) | CPU/host (ms) | peak RSS (MiB) | floor (s) | wall/floor | sshd floor (s) | wall/sshd floor | other CPU (s) | load (1 min) | failures |\n"
    + "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
  var table = header
  for count in counts {
    let list = results[count] ?? []
    guard !list.isEmpty else { continue }
    let cpu = median(list.map(\.clientCPU))
    table +=
      "| \(count) | \(format(median(list.map(\.wall)), 3)) | \(format(cpu, 3)) | \(format(cpu * 1000 / Double(count))) "
      + "| \(format(median(list.map { Double($0.maxRSS) / 1_048_576 }), 1)) | \(format(median(list.map(\.floor)), 3)) "
      + "| \(format(median(list.map { $0.wall / max($0.floor, 1e-9) }))) | \(format(median(list.map(\.sshdFloor)), 3)) "
      + "| \(format(median(list.map { $0.wall / max($0.sshdFloor, 1e-9) }))) | \(format(median(list.map(\.otherCPU)))) "
      + "| \(format(median(list.map(\.load)))) "
      + "| \(list.map(\.failures).reduce(0, +)) |\n"
  }
  print("")
  print(table, terminator: "")
  let idle = median(idleBusy)
  print("medians over \(runs) runs each, \(cores) cores; machine busy before a run (median): \(Int(idle * 100))%")

  guard let out = options["out"] else { return }
  var runLines = ""
  for count in counts {
    for (index, result) in (results[count] ?? []).enumerated() {
      runLines +=
        "| \(count) | \(index + 1) | \(format(result.wall, 3)) | \(format(result.clientCPU, 3)) | \(format(result.floor, 3)) "
        + "| \(format(result.wall / max(result.floor, 1e-9))) | \(format(result.sshdFloor, 3)) | \(format(result.otherCPU)) "
        + "| \(result.maxRSS / 1_048_576) "
        + "| \(format(result.load)) |\n"
    }
  }
  var failureLines = ""
  for count in counts {
    for (index, result) in (results[count] ?? []).enumerated() where result.failures > 0 {
      failureLines +=
        "- \(count) hosts, run \(index + 1): \(result.failures) failed; first: \(result.firstError ?? "?")\n"
    }
  }
  var uname = utsname()
  _ = Glibc.uname(&uname)
  let kernel = withUnsafeBytes(of: uname.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
  let date = ISO8601DateFormatter().string(from: Date())
  let markdown = """
    # Fan-out benchmark (issue 3)

    Connect + exec `hostname` on N testbed hosts at once (window unlimited: one `SshConnection` per
    host, all concurrent), then `close()`; login as `\(fleet.description.user)` with `/bin/sh`, key
    authentication, strict host-key checking. Each run is a fresh child process. Columns: wall time;
    the client's CPU time (user + sys of the whole child process, getrusage RUSAGE_SELF); its peak
    RSS (ru_maxrss); the **floor**: the machine's busy CPU time during the run (/proc/stat: total −
    idle − iowait jiffies) minus the client's own CPU over the same interval, divided by the \(cores)
    cores — what sshd (about 27 ms of CPU per connection) and the kernel need at least. The **sshd
    floor** counts only the CPU of the testbed's sshd processes and their reaped descendants
    (/proc/PID/stat utime + stime + cutime + cstime of the listeners), over the cores: blind to
    other engineers' processes, but a lower bound: busy time charged to no process of that tree
    is missing (not softirq time, which stays small: presumably kernel threads and teardown work).
    **Other CPU**: the machine's busy time that is neither the client's nor sshd's; on a quiet
    machine it is that uncharged time, about 3.7 ms per host here (0.23 s for 64 hosts,
    0.94 s for 256); more means other processes shared the machine during the run. Load is the
    1-minute average, which lags: it still counts the sshd processes of the previous run.
    Targets: wall ≤ 1.1 × floor, client CPU ≤ 1 ms per host.

    Measured \(date), Linux \(kernel), \(cores) cores; \(runs) runs per size, sizes interleaved;
    medians. Load = 1-minute load average just before the run (other engineers share the machine).
    Reproduce: `scripts/bench-fanout.sh` (or `fanout-bench --hosts \(counts.map(String.init).joined(separator: ",")) --runs \(runs) --out FILE`).

    \(table)
    Machine busy fraction just before a run (median): \(Int(idle * 100))%.

    <details><summary>Every run</summary>

    | hosts | run | wall (s) | client CPU (s) | floor (s) | wall/floor | sshd floor (s) | other CPU (s) | peak RSS (MiB) | load |
    |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
    \(runLines)
    </details>

    Failures: \(failureLines.isEmpty ? "none." : "\n\n" + failureLines)

    """
  let directory = (out as NSString).deletingLastPathComponent
  if !directory.isEmpty {
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  }
  _ = FileManager.default.createFile(atPath: out, contents: Data(markdown.utf8))
  print("wrote \(out)")
}

// MARK: - Entry

let arguments = CommandLine.arguments.dropFirst()
if arguments.first == "run" {
  await childRun(parseOptions(arguments.dropFirst()))
} else {
  await parentMain(parseOptions(arguments))
}
