import Foundation
import Testing

@testable import AsyncJobs

/// Reference §3.8: the README examples A–F, the window and the nested listing; then the examples
/// of this project's README. Job bodies wait at gates; order is checked on the events.
@Suite(.timeLimit(.minutes(1))) struct ReadmeTests {
  @Test func exampleA() async throws {
    let gate = Gate()
    let a1 = gated("a1", gate, value: 100.0)
    let a2 = gated("a2", gate, value: 200.0)
    let a3 = gated("a3", gate, value: 250.0)
    let sa = Scheduler(a1, a2, a3)
    #expect("\(sa)" == "Scheduler with 0 done + 0 ongoing + 3 idle = 3 job(s)")
    async let ok = sa.run()
    try await gate.waitForArrivals(3)  // together, not one after the other
    #expect("\(sa)" == "Scheduler with 0 done + 3 ongoing + 0 idle = 3 job(s)")
    gate.open()
    #expect(try await ok)
    #expect(a1.result as? Double == 100.0)
    #expect("\(sa)" == "Scheduler with 3 done + 0 ongoing + 0 idle = 3 job(s)")
  }

  @Test func exampleAConstruction() async throws {
    let sa2 = Scheduler()
    let a3 = Job(label: nil) { 250.0 }
    #expect(sa2.add(a3) === a3)
    #expect(a3.badge(.unicode) + " " + a3.mainText + " " + a3.resultText == "⚠   ⚐   <Job `NOLABEL`> [not done]")
    #expect(try await sa2.run())
  }

  @Test func exampleB() async throws {
    let gate = Gate()
    let b1 = gated("b1", gate, value: 100.0)
    let b2 = quick("b2", value: 200.0)
    let b3 = gated("b3", gate, value: 250.0)
    #expect(b2.requires(b1) === b2)
    #expect(b2.badge(.unicode) + " " + b2.mainText + " " + b2.resultText == "⚠   ⚐   <Job `b2`> [not done]")
    let sb = Scheduler(b1, b2, b3)
    let recorder = EventRecorder(sb)
    async let ok = sb.run()
    try await gate.waitForArrivals(2)  // b1 and b3 together
    #expect(b2.isIdle)
    gate.open()
    #expect(try await ok)
    #expect(b1.isDone && b3.error == nil)
    #expect(inOrder(await recorder.all(), "DONE b1", "STARTING b2", "DONE b2"))
    #expect(b2.startedAt! >= b1.endedAt!)
    let listing = sb.list(symbols: .unicode)
    #expect(listing.contains("2 ⚠ ☉ ☓   <Job `b2`> [[ -> 200.0]] requires={1}\n"))
    #expect(listing.contains("[[ -> 100.0]]") && listing.contains("[[ -> 250.0]]"))
  }

  @Test func exampleBWithSequence() async throws {
    let gate = Gate()
    let sb = Scheduler(JobSequence(gated("b1", gate), quick("b2")), gated("b3", gate))
    let recorder = EventRecorder(sb)
    async let ok = sb.run()
    try await gate.waitForArrivals(2)
    gate.open()
    #expect(try await ok)
    #expect(inOrder(await recorder.all(), "DONE b1", "STARTING b2", "DONE b2"))
  }

  @Test func exampleCForeverMonitor() async throws {
    let (stream, bus) = AsyncStream.makeStream(of: String.self)
    let seen = Log()
    func inOutBus(_ t: Double, _ label: String) -> Job {
      Job(label: label) {
        bus.yield("\(label) start")
        try await seen.wait(for: "\(label) start")  // the monitor got it
        bus.yield("\(label) end")
        return 10 * t
      }
    }
    let c1 = inOutBus(0.2, "c1")
    let c2 = inOutBus(0.4, "c2")
    let c3 = inOutBus(0.3, "c3").requires(c1)
    let monitor = Job(label: "monitor", forever: true) {
      for await message in stream { seen.append(message) }
      try Task.checkCancellation()  // the stream ends quietly on cancellation
      return nil
    }
    let sc = Scheduler(c1, c2, c3, monitor)
    let recorder = EventRecorder(sc)
    #expect(try await sc.run())
    #expect(inOrder(await recorder.all(), "DONE c1", "STARTING c3", "DONE c3", "CANCELLED monitor"))
    #expect(c1.result as? Double == 2.0 && c2.result as? Double == 4.0 && c3.result as? Double == 3.0)
    #expect(sc.list(symbols: .unicode).contains("⚠ ☉ ↺ ∞ <Job `monitor`> [not done]"))
    // "c1 end" went on the bus before c3 started, so before "c3 start", which the monitor got.
    #expect(inOrder(seen.all, "c1 start", "c1 end", "c3 start"))
  }

  @Test func exampleDTimeout() async throws {
    let clock = ManualClock()
    let ticks = Counter()
    let j = Job(forever: true) {
      while true {
        try await clock.sleep(for: .seconds(0.1))
        ticks.add(1)
      }
    }
    let sd = Scheduler(j, timeout: .seconds(0.25), critical: false, clock: clock)
    async let ok = sd.run()
    for tick in 1...2 {
      await clock.waitForSleepers(2)  // the run's deadline and the job's next tick
      clock.advance(by: .seconds(0.1))
      try await ticks.wait(for: tick)
    }
    await clock.waitForSleepers(2)
    clock.advance(by: .seconds(0.05))  // 0.25 s: the run's deadline, before the third tick
    #expect(try await ok == false)
    #expect(ticks.current == 2)
    #expect(sd.failedTimeout)
    #expect(j.badge(.unicode) == "⚠ ☉ ↺ ∞" && j.resultText == "[not done]")
  }

  @Test func exampleENonCritical() async throws {
    let begin = quick("begin", value: 200.0)
    let boom = boom("boom", "boom after 0.2s", critical: false)
    let end = quick("end", value: 300.0)
    let se = Scheduler(JobSequence(begin, boom, end), critical: false)
    let recorder = EventRecorder(se)
    #expect(try await se.run())
    #expect(inOrder(await recorder.all(), "DONE begin", "RAISED boom", "STARTING end", "DONE end"))
    #expect(end.isDone)
    let listing = se.list(symbols: .unicode)
    #expect(listing.contains("2   ★ ☓   <Job `boom`> !! exception => BoomError:boom after 0.2s!! requires={1}\n"))
    #expect(listing.contains("3 ⚠ ☉ ☓   <Job `end`> [[ -> 300.0]] requires={2}\n"))
  }

  @Test func exampleFCritical() async throws {
    let boomJob = boom("boom", "boom after 0.2s")
    let sf = Scheduler(JobSequence(quick("begin"), boomJob, quick("end")), critical: false)
    let recorder = EventRecorder(sf)
    #expect(try await sf.run() == false)
    let lines = await recorder.all()
    #expect(inOrder(lines, "DONE begin", "RAISED boom", "RUN FAILED NOLABEL"))
    #expect(!lines.contains("STARTING end"))
    #expect(sf.stats() == "2D + 0R + 1I = 3")
    #expect(sf.list(symbols: .unicode).contains("3 ⚠   ⚐   <Job `end`> [not done] requires={2}\n"))
    // Variant: the same scheduler left critical throws the job's own error.
    let critical = Scheduler(JobSequence(quick("begin"), boom("boom", "boom after 0.2s"), quick("end")))
    await #expect(throws: BoomError(message: "boom after 0.2s")) { try await critical.run() }
  }

  @Test func windowExample() async throws {
    let gate = Gate()
    let jobs = (1...8).map { gated("w\($0)", gate) }
    let scheduler = Scheduler(jobs, jobsWindow: 4)
    let recorder = EventRecorder(scheduler)
    async let ok = scheduler.run()
    try await gate.waitForArrivals(4)
    #expect(jobs.filter { $0.isRunning }.count == 4 && jobs.filter { $0.isScheduled }.count == 4)
    gate.open()
    #expect(try await ok)
    #expect(maxConcurrency(await recorder.all(), among: labelSet(jobs)) == 4)
  }

  @Test func nestedListingAndRun() async throws {
    let log = Log()
    func logged(_ label: String) -> Job {
      Job(label: label) {
        log.append(label)
        return nil
      }
    }
    let subSched = Scheduler(critical: true, label: "critical nested")
    let subj1 = subSched.add(logged("subj1"))
    let subj2 = subSched.add(logged("subj2").requires(subj1))
    let subj3 = subSched.add(logged("subj3").requires(subj1))
    subSched.add(logged("subj4").requires(subj2, subj3))
    let main = Scheduler(JobSequence(logged("main-start"), subSched, logged("main-end")))
    let expected = """
      1 ⚠   ⚐   <Job `main-start`> [not done] 
      2 ⚠   ⚐   <Scheduler `critical nested`> [not done] requires={1} -> entries={3}
      3 ⚠   ⚐   > <Job `subj1`> [not done] 
      4 ⚠   ⚐   > <Job `subj2`> [not done] requires={3}
      5 ⚠   ⚐   > <Job `subj3`> [not done] requires={3}
      6 ⚠   ⚐   > <Job `subj4`> [not done] requires={4, 5}
      2 --end-- < <Scheduler `critical nested`> exits={6}
      7 ⚠   ⚐   <Job `main-end`> [not done] requires={2}

      """
    #expect(main.list(symbols: .unicode) == expected)
    #expect(try await main.run())
    let order = log.all
    #expect(order.first == "main-start" && order[1] == "subj1" && order[4] == "subj4" && order.last == "main-end")
    #expect(Set(order[2...3]) == ["subj2", "subj3"])
    let after = main.list(symbols: .unicode)
    #expect(after.contains("2 ⚠ ☉ ☓   <Scheduler `critical nested`> [[ -> true]] requires={1} -> entries={3}\n"))
  }

  // MARK: - This project's README

  /// The first example of README.md's AsyncJobs section, on a `ManualClock` so that its 10 s timeout
  /// cannot expire on a loaded machine.
  @Test func readmeFirstExample() async throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("readme-\(UUID()).svg").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    let prepare = Job(label: "prepare") {
      try await Task.sleep(for: .seconds(0.3)); return "ok"
    }
    let downloads = (1...6).map { i in
      Job(label: "download \(i)") {
        try await Task.sleep(for: .seconds(0.2)); return i
      }
    }
    let fetch = Scheduler(downloads, jobsWindow: 3, label: "fetch (window 3)").requires(prepare)
    let main = Scheduler(prepare, fetch, timeout: .seconds(10))
    main.clock = ManualClock()
    let recorder = EventRecorder(main)
    let ok = try await main.run()  // true; a critical failure throws the job's own error
    #expect(ok)
    #expect(main.debrief(symbols: .unicode).hasPrefix("----- FINE\n"))
    try await main.exportGraphic(to: path)
    #expect(try String(contentsOfFile: path, encoding: .utf8).contains("download 6"))
    let lines = await recorder.all()
    #expect(inOrder(lines, "DONE prepare", "STARTING fetch (window 3)", "RUN START fetch (window 3)"))
    #expect(maxConcurrency(lines, among: labelSet(downloads)) <= 3)
    #expect(downloads.map { $0.result as? Int } == Array(1...6))
  }

  /// The `ManualClock` example of README.md, verbatim but for `print`.
  @Test func readmeManualClockExample() async throws {
    let clock = ManualClock()
    let stuck = Job(label: "stuck", timeout: .seconds(30)) { try await Task.sleep(for: .seconds(3600)) }
    let scheduler = Scheduler(stuck, critical: false, clock: clock)
    let events = scheduler.events()
    async let ok = scheduler.run()
    for await event in events { if case .started = event.kind { break } }  // the 30 s deadline is set
    clock.advance(by: .seconds(30))  // and reached, at once
    #expect(try await ok == false)
    #expect("\(stuck.error!)" == "job stuck timed out after 30s")
  }

  @Test func asciiListing() {
    let main = Scheduler(JobSequence(noop("a"), noop("b")))
    #expect(
      main.list(symbols: .ascii) == "1 !    >   <Job `a`> [not done] \n2 !    >   <Job `b`> [not done] requires={1}\n")
  }
}
