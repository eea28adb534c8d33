import Testing

@testable import AsyncJobs

/// Reference §3.8: the README examples A–F, the window and the nested listing.
@Suite struct ReadmeTests {
  @Test func exampleA() async throws {
    let a1 = sleepJob(0.1)
    let a2 = sleepJob(0.2)
    let a3 = sleepJob(0.25)
    let sa = Scheduler(a1, a2, a3)
    #expect("\(sa)" == "Scheduler with 0 done + 0 ongoing + 3 idle = 3 job(s)")
    let (ok, time) = try await timed { try await sa.run() }
    #expect(ok)
    #expect(about(time, 0.25))
    #expect(a1.result as? Double == 100.0)
    #expect("\(sa)" == "Scheduler with 3 done + 0 ongoing + 0 idle = 3 job(s)")
    #expect(a2.startedAt! - a1.startedAt! < .seconds(0.15))  // together, not one after the other (0.1 s)
  }

  @Test func exampleAConstruction() async throws {
    let sa2 = Scheduler()
    let a3 = Job(label: nil) { 250.0 }
    #expect(sa2.add(a3) === a3)
    #expect(a3.badge(.unicode) + " " + a3.mainText + " " + a3.resultText == "⚠   ⚐   <Job `NOLABEL`> [not done]")
    #expect(try await sa2.run())
  }

  @Test func exampleB() async throws {
    let b1 = sleepJob(0.1, label: "b1")
    let b2 = sleepJob(0.2, label: "b2")
    let b3 = sleepJob(0.25, label: "b3")
    #expect(b2.requires(b1) === b2)
    #expect(b2.badge(.unicode) + " " + b2.mainText + " " + b2.resultText == "⚠   ⚐   <Job `b2`> [not done]")
    let sb = Scheduler(b1, b2, b3)
    let (ok, time) = try await timed { try await sb.run() }
    #expect(ok)
    #expect(about(time, 0.3))
    #expect(b1.isDone && b3.error == nil)
    #expect(b2.startedAt! >= b1.endedAt!)
    let listing = sb.list(symbols: .unicode)
    #expect(listing.contains("2 ⚠ ☉ ☓   <Job `b2`> [[ -> 200.0]] requires={1}\n"))
    #expect(listing.contains("[[ -> 100.0]]") && listing.contains("[[ -> 250.0]]"))
  }

  @Test func exampleBWithSequence() async throws {
    let sb = Scheduler(JobSequence(sleepJob(0.1), sleepJob(0.2)), sleepJob(0.25))
    let (ok, time) = try await timed { try await sb.run() }
    #expect(ok)
    #expect(about(time, 0.3))
  }

  @Test func exampleCForeverMonitor() async throws {
    let (stream, bus) = AsyncStream.makeStream(of: String.self)
    let seen = Log()
    func inOutBus(_ t: Double, _ label: String) -> Job {
      Job(label: label) {
        bus.yield("\(label) start")
        try await Task.sleep(for: .seconds(t))
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
    let (ok, time) = try await timed { try await sc.run() }
    #expect(ok)
    #expect(about(time, 0.5))
    #expect(c1.result as? Double == 2.0 && c2.result as? Double == 4.0 && c3.result as? Double == 3.0)
    #expect(sc.list(symbols: .unicode).contains("⚠ ☉ ↺ ∞ <Job `monitor`> [not done]"))
    #expect(seen.all.contains("c3 start") && seen.all.contains("c1 end"))
  }

  @Test func exampleDTimeout() async throws {
    let ticks = Counter()
    let j = Job(forever: true) {
      while true {
        try await Task.sleep(for: .seconds(0.1))
        ticks.add(1)
      }
    }
    let sd = Scheduler(j, timeout: .seconds(0.25), critical: false)
    let (ok, time) = try await timed { try await sd.run() }
    #expect(!ok)
    #expect(about(time, 0.25))
    #expect((1...2).contains(ticks.current))
    #expect(j.badge(.unicode) == "⚠ ☉ ↺ ∞" && j.resultText == "[not done]")
  }

  @Test func exampleENonCritical() async throws {
    let begin = sleepJob(0.2, label: "begin")
    let boom = boomJob(0.2, label: "boom", critical: false)
    let end = sleepJob(0.3, label: "end")
    let se = Scheduler(JobSequence(begin, boom, end), critical: false)
    let (ok, time) = try await timed { try await se.run() }
    #expect(ok)
    #expect(about(time, 0.7))
    #expect(end.isDone)
    let listing = se.list(symbols: .unicode)
    #expect(listing.contains("2   ★ ☓   <Job `boom`> !! exception => BoomError:boom after 0.2s!! requires={1}\n"))
    #expect(listing.contains("3 ⚠ ☉ ☓   <Job `end`> [[ -> 300.0]] requires={2}\n"))
  }

  @Test func exampleFCritical() async throws {
    let boom = boomJob(0.2, label: "boom")
    let sf = Scheduler(JobSequence(sleepJob(0.2, label: "begin"), boom, sleepJob(0.3, label: "end")), critical: false)
    let (ok, time) = try await timed { try await sf.run() }
    #expect(!ok)
    #expect(about(time, 0.4))
    #expect(sf.stats() == "2D + 0R + 1I = 3")
    #expect(sf.list(symbols: .unicode).contains("3 ⚠   ⚐   <Job `end`> [not done] requires={2}\n"))
    // Variant: the same scheduler left critical throws the job's own error.
    let critical = Scheduler(JobSequence(sleepJob(0.2), boomJob(0.2), sleepJob(0.3)))
    await #expect(throws: BoomError(message: "boom after 0.2s")) { try await critical.run() }
  }

  @Test func windowExample() async throws {
    let jobs = (1...8).map { _ in sleepJob(0.25) }
    let scheduler = Scheduler(jobs, jobsWindow: 4)
    let (ok, time) = try await timed { try await scheduler.run() }
    #expect(ok)
    #expect(about(time, 0.5))
  }

  @Test func nestedListingAndRun() async throws {
    let log = Log()
    func logged(_ label: String) -> Job {
      Job(label: label) {
        log.append(label)
        try await Task.sleep(for: .seconds(0.05))
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

  @Test func asciiListing() {
    let main = Scheduler(JobSequence(noop("a"), noop("b")))
    #expect(main.list(symbols: .ascii) == "1 !    >   <Job `a`> [not done] \n2 !    >   <Job `b`> [not done] requires={1}\n")
  }
}
