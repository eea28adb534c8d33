// AsyncJobs demo: dependencies, a jobs window, a forever ticker, a nested scheduler.
//
//   swift run asyncjobs-demo [graph.svg]
//
// Prints the listing before the run, one line per event while it runs, the debrief after, and
// writes the graph as SVG (default asyncjobs-demo.svg; graphviz `dot` is needed for that part).
import AsyncJobs

let svgPath = CommandLine.arguments.dropFirst().first ?? "asyncjobs-demo.svg"

/// A job that pretends to work for `seconds` and returns a short report.
func work(_ label: String, _ seconds: Double) -> Job {
  Job(label: label) {
    try await Task.sleep(for: .seconds(seconds))
    return "\(label) ok"
  }
}

// A forever job: ticks until the finite jobs are done, then gets cancelled.
let ticker = Job(label: "ticker", critical: false, forever: true) {
  var ticks = 0
  while true {
    try await Task.sleep(for: .seconds(0.25))
    ticks += 1
    print("    tick \(ticks)")
  }
}

let prepare = work("prepare", 0.3)

// A nested scheduler: 6 downloads, at most 3 at a time, then a merge.
let downloads = (1...6).map { work("download \($0)", 0.2 + 0.05 * Double($0)) }
let merge = work("merge", 0.2).requires(downloads)
let fetch = Scheduler(downloads + [merge], jobsWindow: 3, label: "fetch (window 3)").requires(prepare)

// Two parallel checks after prepare, a report after everything.
let lint = work("lint", 0.4).requires(prepare)
let flaky = Job(label: "flaky check", critical: false) {
  try await Task.sleep(for: .seconds(0.3))
  throw DemoError.unreachable
}
flaky.requires(prepare)
let report = work("report", 0.2).requires(fetch, lint, flaky)

enum DemoError: Error { case unreachable }

let main = Scheduler(prepare, fetch, lint, flaky, report, ticker, timeout: .seconds(10), label: "demo")

print("===== before")
print(main.list(), terminator: "")

main.eventHandler = { event in
  switch event.kind {
  case .started, .finished, .failed, .cancelled:
    print("  \(event)")
  default:
    break
  }
}
let clock = ContinuousClock()
let start = clock.now
let succeeded = try await main.run()
print("===== after: run() returned \(succeeded) in \(clock.now - start)")
print(main.debrief(), terminator: "")

do {
  try await main.exportGraphic(to: svgPath)
  print("graph written to \(svgPath)")
} catch {
  print("could not write the graph: \(error)")
}
