import Testing

@testable import AsyncJobs

/// Reference §3.1 (test_basics.py). Job bodies wait at gates the test opens; timeouts run on a
/// `ManualClock`; order is checked on the events.
@Suite(.timeLimit(.minutes(1))) struct BasicsTests {
  @Test func empty() async throws {
    let scheduler = Scheduler()
    #expect(scheduler.list() == "")
    #expect(scheduler.list(details: true) == "")
    #expect(try await scheduler.run())
  }

  @Test func cycle() {
    let a1 = noop("a1")
    let a2 = noop("a2")
    let a3 = noop("a3")
    a1.requires(a2)
    a2.requires(a3)
    a3.requires(a1)
    #expect(!Scheduler(a1, a2, a3).checkCycles())
  }

  @Test func simpleDAG() async throws {
    let gate = Gate()
    let a = (1...7).map { gated("a\($0)", gate, value: Double($0) * 50) }
    a[3].requires(a[0], a[1], a[2])
    a[4].requires(a[3])
    a[5].requires(a[3])
    a[6].requires(a[4], a[5])
    let scheduler = Scheduler(a)
    #expect(scheduler.checkCycles())
    let recorder = EventRecorder(scheduler)
    async let ok = scheduler.run()
    try await gate.waitForArrivals(3)  // a1, a2, a3 run together
    #expect(a[3].isIdle && a[6].isIdle)
    gate.open()
    #expect(try await ok)
    let lines = await recorder.all()
    for (job, requirement) in [(4, 1), (4, 2), (4, 3), (5, 4), (6, 4), (7, 5), (7, 6)] {
      #expect(
        inOrder(lines, "DONE a\(requirement)", "STARTING a\(job)"), "a\(job) started before a\(requirement) was done")
    }
    #expect(a.allSatisfy { $0.isDone && $0.error == nil })
    #expect(a[6].startedAt! >= a[5].endedAt!)
    let listing = scheduler.list(symbols: .unicode)
    #expect(listing.contains("<Job `a4`> [[ -> 200.0]] requires={1, 2, 3}"))
    #expect(scheduler.debrief(symbols: .unicode).hasPrefix("----- FINE\n"))
  }

  @Test func forever1() async throws {
    let a1 = quick("a1", value: 200.0)
    let a2 = quick("a2", value: 300.0, requires: [a1])
    let t1 = gated("t1", Gate(), forever: true)  // never let through: it runs until cancelled
    let scheduler = Scheduler(a1, a2, t1)
    let recorder = EventRecorder(scheduler)
    #expect(try await scheduler.run())
    let lines = await recorder.all()
    #expect(lines.contains("STARTING t1"))
    #expect(inOrder(lines, "DONE a2", "CANCELLED t1", "RUN OK NOLABEL"))
    #expect(t1.badge(.unicode) == "⚠ ☉ ↺ ∞")
    #expect(t1.resultText == "[not done]")
    #expect(t1.wasCancelled)
  }

  @Test func timeout1() async throws {
    let clock = ManualClock()
    let a1 = quick("a1", value: 250.0)
    let a2 = gated("a2", Gate(), requires: [a1])
    let a3 = quick("a3", requires: [a2])
    let scheduler = Scheduler(a1, a2, a3, timeout: .seconds(0.5), critical: false, clock: clock)
    let recorder = EventRecorder(scheduler)
    async let ok = scheduler.run()
    try await recorder.wait(for: "STARTING a2")
    await clock.waitForSleepers(1)  // the run's deadline timer
    clock.advance(by: .seconds(0.4))
    #expect(clock.sleepers() == 1, "the run's deadline fired before 0.5 s")
    #expect(a2.isRunning && !a2.wasCancelled)
    clock.advance(by: .seconds(0.1))
    #expect(try await ok == false)
    #expect(a1.isDone)
    #expect(a2.isRunning && a2.wasCancelled && a2.result == nil)
    #expect(a3.isIdle)
    #expect(scheduler.failedTimeout)
    #expect(scheduler.why() == "TIMED OUT after 0.5s")
    let lines = await recorder.all()
    #expect(inOrder(lines, "DONE a1", "STARTING a2", "CANCELLED a2", "RUN FAILED NOLABEL"))
    #expect(!lines.contains("STARTING a3"))
  }

  @Test(arguments: [false, true]) func exceptionNonCritical(verbose: Bool) async throws {
    let gate = Gate()
    let fine = gated("ok", gate, value: 0.4)
    let boom = Job(label: "non critical boom", critical: false) { throw BoomError(message: "500000.0") }
    let scheduler = Scheduler(fine, boom, verbose: verbose)
    let recorder = EventRecorder(scheduler)
    async let ok = scheduler.run()
    try await recorder.wait(for: "RAISED non critical boom")
    try await gate.waitForArrivals(1)
    gate.open()
    #expect(try await ok)
    #expect(inOrder(await recorder.all(), "RAISED non critical boom", "DONE ok"))
    #expect(boom.isDone && boom.error as? BoomError == BoomError(message: "500000.0"))
    #expect(fine.isDone && fine.result as? Double == 0.4 && !fine.wasCancelled)
    let debrief = scheduler.debrief(symbols: .unicode)
    #expect(debrief.hasPrefix("----- FINE\n"))
    #expect(debrief.contains("===== 1 job(s) with an exception, including 0 critical\n"))
    #expect(debrief.contains("non-critical: non critical boom: exception 500000.0\n"))
  }

  @Test(arguments: [false, true]) func exceptionCritical(verbose: Bool) async throws {
    let fineGate = Gate()  // never opened: only the abort ends `fine`
    let fine = gated("ok", fineGate, value: 0.6)
    let boom = Job(label: "boom") {
      try await fineGate.waitForArrivals(1)  // fail while `fine` runs
      throw BoomError(message: "boom")
    }
    let scheduler = Scheduler(fine, boom, critical: false, verbose: verbose)
    let recorder = EventRecorder(scheduler)
    #expect(try await scheduler.run() == false)
    #expect(inOrder(await recorder.all(), "STARTING ok", "RAISED boom", "CANCELLED ok", "RUN FAILED NOLABEL"))
    #expect(fine.badge(.unicode) == "⚠ ☉ ↺  " && fine.resultText == "[not done]" && fine.wasCancelled)
    #expect(scheduler.failedCritical)
    #expect(scheduler.why() == "a CRITICAL job has raised an exception")
    #expect(scheduler.stats() == "1D + 1R + 0I = 2")
    #expect(scheduler.debrief(symbols: .unicode).contains("including 1 critical"))
  }

  @Test func sequences() async throws {
    // sequence1
    var a = (1...3).map { quick("a\($0)") }
    var scheduler = Scheduler(JobSequence(a[0], a[1], a[2]))
    #expect(a.map(\.requirements.count) == [0, 1, 1])
    #expect(try await scheduler.run())
    // sequence2: a sequence with a requirement
    a = (1...3).map { quick("a\($0)") }
    let s2 = JobSequence(a[1], a[2]).requires(a[0])
    scheduler = Scheduler(a[0], s2)
    #expect(a.map(\.requirements.count) == [0, 1, 1])
    #expect(try await scheduler.run())
    // sequence3: a job requiring a sequence requires its last job
    a = (1...3).map { quick("a\($0)") }
    let s3 = JobSequence(a[0], a[1])
    a[2].requires(s3)
    scheduler = Scheduler(s3, a[2])
    #expect(a[2].requirements.first === a[1])
    #expect(try await scheduler.run())
    // sequence4: nested sequences, no duplicates
    a = (1...4).map { quick("a\($0)") }
    scheduler = Scheduler(JobSequence(JobSequence(a[0], a[1]), JobSequence(a[2], a[3])))
    #expect(a.map(\.requirements.count) == [0, 1, 1, 1])
    #expect(a[2].requirements.first === a[1])
    #expect(try await scheduler.run())
    // sequence5: chains of sequences run one job after the other
    a = (1...6).map { quick("a\($0)") }
    let q1 = JobSequence(a[0], a[1])
    let q2 = JobSequence(a[2], a[3]).requires(q1)
    let q3 = JobSequence(a[4], a[5]).requires(q2)
    scheduler = Scheduler(q1, q2, q3)
    #expect(a.map(\.requirements.count) == [0, 1, 1, 1, 1, 1])
    #expect(a[4].requirements.first === a[3])
    let recorder = EventRecorder(scheduler)
    #expect(try await scheduler.run())
    let steps = await recorder.all().filter { $0.hasPrefix("STARTING") || $0.hasPrefix("DONE") }
    #expect(steps == (1...6).flatMap { ["STARTING a\($0)", "DONE a\($0)"] })
    // sequence6: add returns its argument
    a = (1...3).map { quick("a\($0)") }
    scheduler = Scheduler()
    let added = scheduler.add(JobSequence(a[0], a[1], a[2]))
    #expect(added.jobs.count == 3 && scheduler.count == 3)
    #expect(try await scheduler.run())
  }

  @Test func requiresForms() {
    let a = (1...5).map { noop("a\($0)") }
    #expect(noop("x").requirements.count == 0)
    #expect(noop("x").requires(a[0]).requirements.count == 1)
    #expect(noop("x").requires([a[0]]).requirements.count == 1)
    #expect(noop("x").requires(a[0], a[1]).requirements.count == 2)
    #expect(noop("x").requires([a[0], a[1], a[0]]).requirements.count == 2)
    #expect(noop("x").requires(JobSequence(a[0], a[1], a[2])).requirements.count == 1)
    #expect(Job(label: "y", requires: a) { nil }.requirements.count == 5)
    let me = noop("me")
    #expect(me.requires(me).requirements.isEmpty)
    let many = (0..<40).map { noop("m\($0)") }
    #expect(noop("x").requires(many + many).requirements.count == 40)
    let x = noop("x").requires(a)
    x.removeRequirement(a[2])
    #expect(labels(x.requirements) == ["a1", "a2", "a4", "a5"])
  }

  @Test func requiresSequence() {
    let a1 = noop("a1")
    let a2 = noop("a2")
    let b = (1...3).map { noop("b\($0)") }
    JobSequence(b[0], b[1], b[2]).requires([a1, a2])
    #expect(b.map(\.requirements.count) == [2, 1, 1])
  }

  @Test func timeout2() async throws {
    let clock = ManualClock()
    let gate = Gate()
    let a1 = quick("a1", value: 0.1)
    let a2 = quick("a2", value: 0.2)
    let a3 = gated("a3", gate, value: 5.0)
    let scheduler = Scheduler(a1, a2, a3, timeout: .seconds(0.4), critical: false, clock: clock)
    let recorder = EventRecorder(scheduler)
    async let ok = scheduler.run()
    try await recorder.wait(for: "DONE a1")
    try await recorder.wait(for: "DONE a2")
    try await gate.waitForArrivals(1)
    clock.advance(by: .seconds(0.4))
    #expect(try await ok == false)
    #expect(a1.result as? Double == 0.1 && a2.result as? Double == 0.2)
    #expect(!a3.isDone && a3.wasCancelled)
  }

  @Test func forever2() async throws {
    let clock = ManualClock()
    let gate = Gate()
    let ticks = Counter()
    let a1 = gated("a1", gate)
    let a2 = Job(label: "ticker", forever: true) {
      while true {
        try await clock.sleep(for: .seconds(0.05))
        ticks.add(1)
      }
    }
    let scheduler = Scheduler(a1, a2, clock: clock)
    async let ok = scheduler.run()
    for tick in 1...3 {  // the forever job ticks while a1 runs
      await clock.waitForSleepers(1)
      clock.advance(by: .seconds(0.05))
      try await ticks.wait(for: tick)
    }
    gate.open()
    #expect(try await ok)
    #expect(a1.isDone && !a2.isDone && a2.wasCancelled)
    #expect(ticks.current == 3)
  }

  @Test func creationAndAppend() async throws {
    let gate = Gate()
    let scheduler = Scheduler()
    var sequence = JobSequence(quick("s1"), quick("s2"))
    let last = gated("last", gate, value: 3)
    last.requires(sequence)
    let appended = gated("appended", gate)
    sequence.append(appended)
    scheduler.update(sequence, last)
    #expect(scheduler.count == 4)
    #expect(appended.requirements.first?.effectiveLabel == "s2")
    #expect(scheduler.checkCycles())
    let recorder = EventRecorder(scheduler)
    async let ok = scheduler.run()
    try await gate.waitForArrivals(2)  // `appended` and `last` run together
    gate.open()
    #expect(try await ok)
    let lines = await recorder.all()
    #expect(inOrder(lines, "DONE s1", "STARTING s2", "DONE s2", "STARTING appended"))
    #expect(inOrder(lines, "DONE s2", "STARTING last"))
    #expect(last.result as? Int == 3)
  }

  @Test func window() async throws {
    let gate = Gate()
    let jobs = (1...15).map { gated("w\($0)", gate) }
    let scheduler = Scheduler(jobs, jobsWindow: 3)
    let recorder = EventRecorder(scheduler)
    async let ok = scheduler.run()
    try await gate.waitForArrivals(3)
    #expect(jobs.prefix(3).allSatisfy { $0.isRunning } && jobs.dropFirst(3).allSatisfy { $0.isScheduled })
    gate.open()
    #expect(try await ok)
    let lines = await recorder.all()
    #expect(maxConcurrency(lines, among: labelSet(jobs)) == 3)
    #expect(lines.filter { $0.hasPrefix("STARTING") } == (1...15).map { "STARTING w\($0)" })
    #expect(jobs.allSatisfy { $0.isDone })
  }

  @Test func printJobsInAWindow() async throws {
    let jobs = (1...15).map { PrintJob("window \($0)", label: "p\($0)") }
    let scheduler = Scheduler(jobs, jobsWindow: 3)
    let recorder = EventRecorder(scheduler)
    #expect(try await scheduler.run())
    #expect(maxConcurrency(await recorder.all(), among: labelSet(jobs)) <= 3)
    #expect(jobs.allSatisfy { $0.isDone })
  }

  @Test func noWindow() async throws {
    for window in [nil, 0, -1] as [Int?] {
      let gate = Gate()
      let jobs = (1...15).map { gated("n\($0)", gate) }
      let scheduler = Scheduler(jobs, jobsWindow: window)
      let recorder = EventRecorder(scheduler)
      async let ok = scheduler.run()
      try await gate.waitForArrivals(15)  // all at once: a window would stop them earlier
      gate.open()
      #expect(try await ok)
      #expect(maxConcurrency(await recorder.all(), among: labelSet(jobs)) == 15)
    }
  }

  /// `test_display`: the 20 combinations of state, boom, criticality and forever, verbatim.
  @Test func displayTable() {
    final class AJ: AbstractJob, @unchecked Sendable {}
    struct bool: Error, CustomStringConvertible { var description: String { "True" } }
    var jobs: [AbstractJob] = []
    var previous: AbstractJob?
    let cases: [(JobStatus, Bool)] = [
      (.idle, false), (.scheduled, false), (.running, false), (.done, true), (.done, false),
    ]
    for (status, boom) in cases {
      for critical in [true, false] {
        for forever in [true, false] {
          let label =
            "forever=\(forever ? "True" : "False") crit.=\(critical ? "True" : "False")"
            + " status=\(status) boom=\(boom ? "True" : "False")"
          let job = AJ(label: label, critical: critical, forever: forever)
          if let previous { job.requires(previous) }
          job.setState(status, result: boom ? nil : 0, error: boom ? bool() : nil)
          jobs.append(job)
          previous = job
        }
      }
    }
    let expected = """
      01 ⚠   ⚐ ∞ <AJ `forever=True crit.=True status=idle boom=False`> [not done] 
      02 ⚠   ⚐   <AJ `forever=False crit.=True status=idle boom=False`> [not done] requires={01}
      03     ⚐ ∞ <AJ `forever=True crit.=False status=idle boom=False`> [not done] requires={02}
      04     ⚐   <AJ `forever=False crit.=False status=idle boom=False`> [not done] requires={03}
      05 ⚠   ⚑ ∞ <AJ `forever=True crit.=True status=scheduled boom=False`> [not done] requires={04}
      06 ⚠   ⚑   <AJ `forever=False crit.=True status=scheduled boom=False`> [not done] requires={05}
      07     ⚑ ∞ <AJ `forever=True crit.=False status=scheduled boom=False`> [not done] requires={06}
      08     ⚑   <AJ `forever=False crit.=False status=scheduled boom=False`> [not done] requires={07}
      09 ⚠ ☉ ↺ ∞ <AJ `forever=True crit.=True status=running boom=False`> [not done] requires={08}
      10 ⚠ ☉ ↺   <AJ `forever=False crit.=True status=running boom=False`> [not done] requires={09}
      11   ☉ ↺ ∞ <AJ `forever=True crit.=False status=running boom=False`> [not done] requires={10}
      12   ☉ ↺   <AJ `forever=False crit.=False status=running boom=False`> [not done] requires={11}
      13 ⚠ ★ ☓ ∞ <AJ `forever=True crit.=True status=done boom=True`> !! CRIT. EXC. => bool:True!! requires={12}
      14 ⚠ ★ ☓   <AJ `forever=False crit.=True status=done boom=True`> !! CRIT. EXC. => bool:True!! requires={13}
      15   ★ ☓ ∞ <AJ `forever=True crit.=False status=done boom=True`> !! exception => bool:True!! requires={14}
      16   ★ ☓   <AJ `forever=False crit.=False status=done boom=True`> !! exception => bool:True!! requires={15}
      17 ⚠ ☉ ☓ ∞ <AJ `forever=True crit.=True status=done boom=False`> [[ -> 0]] requires={16}
      18 ⚠ ☉ ☓   <AJ `forever=False crit.=True status=done boom=False`> [[ -> 0]] requires={17}
      19   ☉ ☓ ∞ <AJ `forever=True crit.=False status=done boom=False`> [[ -> 0]] requires={18}
      20   ☉ ☓   <AJ `forever=False crit.=False status=done boom=False`> [[ -> 0]] requires={19}

      """
    // Insert in reverse order: the listing follows the topological order, not insertion order.
    let scheduler = Scheduler(jobs.reversed())
    #expect(scheduler.list(symbols: .unicode) == expected)
    let ascii = scheduler.list(symbols: .ascii).split(separator: "\n")
    #expect(ascii[0] == "01 !    > 8 <AJ `forever=True crit.=True status=idle boom=False`> [not done] ")
    #expect(ascii[12].hasPrefix("13 ! :( x 8 <AJ"))
    #expect(ascii[19].hasPrefix("20   :) x   <AJ"))
  }

  @Test func iterate() {
    func diamond() -> Scheduler {
      let j = (1...4).map { noop("d\($0)") }
      j[1].requires(j[0])
      j[2].requires(j[0])
      j[3].requires(j[1], j[2])
      return Scheduler(j)
    }
    let top = Scheduler(JobSequence(noop("begin"), diamond(), diamond(), noop("end")))
    #expect(top.allJobs().count == 10)
    #expect(top.allJobs(includingSchedulers: true).count == 13)
    #expect(top.allJobs(includingSchedulers: true).first === top)
  }
}
