// Scheduler throughput with no-op jobs: flat, chain, layered DAG at 10k, 100k and 1M jobs.
//
//   swift run -c release asyncjobs-bench                        # the whole table
//   swift run -c release asyncjobs-bench --case chain --jobs 1000000   # one case (child mode)
//
// Each case runs in a child process of its own so that peak RSS (getrusage ru_maxrss) is per case.
import AsyncJobs
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Peak resident set size of this process, in bytes.
func peakRSS() -> Int {
  var usage = rusage()
  #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
  #else
    getrusage(RUSAGE_SELF, &usage)
    return usage.ru_maxrss
  #endif
}

/// Width of a layer of the layered DAG.
let layerWidth = 100

/// Builds the jobs of a case: `flat` (independent), `chain` (each requires the previous) or `dag`
/// (layers of `layerWidth`, each job requiring two jobs of the previous layer).
func makeJobs(_ kind: String, _ count: Int) -> [AbstractJob] {
  var jobs: [AbstractJob] = []
  jobs.reserveCapacity(count)
  for index in 0..<count {
    let job = Job { nil }
    switch kind {
    case "chain":
      if index > 0 { job.requires(jobs[index - 1]) }
    case "dag":
      if index >= layerWidth {
        let layerStart = (index / layerWidth - 1) * layerWidth
        let position = index % layerWidth
        job.requires(jobs[layerStart + position], jobs[layerStart + (position + 1) % layerWidth])
      }
    default:
      break
    }
    jobs.append(job)
  }
  return jobs
}

/// Child mode: runs one case and prints `kind jobs buildSeconds runSeconds peakBytes baseBytes`.
func runCase(_ kind: String, _ count: Int) async throws {
  let base = peakRSS()
  let clock = ContinuousClock()
  let buildStart = clock.now
  let scheduler = Scheduler(makeJobs(kind, count), critical: false)
  let built = clock.now
  let succeeded = try await scheduler.run()
  let ran = clock.now
  guard succeeded, scheduler.jobs.allSatisfy({ $0.isDone }) else {
    print("FAILED \(kind) \(count)")
    exit(1)
  }
  func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
  }
  print(kind, count, seconds(built - buildStart), seconds(ran - built), peakRSS(), base)
}

/// Parent mode: runs every case in a child process and prints the table.
func runAll(sizes: [Int]) throws {
  let me = URL(fileURLWithPath: CommandLine.arguments[0])
  print("case    jobs      build s   run s    jobs/s (run)   peak RSS    bytes/job")
  for kind in ["flat", "chain", "dag"] {
    for size in sizes {
      let process = Process()
      process.executableURL = me
      process.arguments = ["--case", kind, "--jobs", String(size)]
      let output = Pipe()
      process.standardOutput = output
      try process.run()
      let data = output.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      let fields = String(decoding: data, as: UTF8.self).split(separator: " ").map {
        $0.trimmingCharacters(in: .whitespacesAndNewlines)
      }
      guard process.terminationStatus == 0, fields.count == 6,
        let build = Double(fields[2]), let run = Double(fields[3]), let peak = Int(fields[4]),
        let base = Int(fields[5])
      else {
        print("\(kind) \(size): child failed: \(String(decoding: data, as: UTF8.self))")
        continue
      }
      let perJob = Double(peak - base) / Double(size)
      func column(_ text: String, _ width: Int) -> String {
        text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0)
      }
      print(
        column(kind, 8) + column(String(size), 10) + column(String(format: "%.3f", build), 10)
          + column(String(format: "%.3f", run), 9) + column(String(format: "%.0f", Double(size) / run), 15)
          + column(String(format: "%.1f MiB", Double(peak) / 1_048_576), 12)
          + String(format: "%.0f", perJob))
    }
  }
}

let arguments = CommandLine.arguments
if let caseIndex = arguments.firstIndex(of: "--case"), caseIndex + 1 < arguments.count {
  let count = arguments.firstIndex(of: "--jobs").flatMap { Int(arguments[$0 + 1]) } ?? 100_000
  try await runCase(arguments[caseIndex + 1], count)
} else {
  let sizes =
    arguments.firstIndex(of: "--sizes").map {
      arguments[$0 + 1].split(separator: ",").compactMap { Int($0) }
    } ?? [10_000, 100_000, 1_000_000]
  try runAll(sizes: sizes)
}
