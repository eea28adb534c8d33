import Testing

@testable import AsyncJobs

/// Reference §3.1 (test_basics.py).
@Suite struct BasicsTests {
  @Test func empty() async throws {
    let scheduler = Scheduler()
    #expect(scheduler.list() == "")
    #expect(scheduler.list(details: true) == "")
    #expect(try await scheduler.run())
  }

  @Test func cycle() {
    let a1 = sleepJob(1.1, label: "a1")
    let a2 = sleepJob(1.2, label: "a2")
    let a3 = sleepJob(1.3, label: "a3")
    a1.requires(a2)
    a2.requires(a3)
    a3.requires(a1)
    #expect(!Scheduler(a1, a2, a3).checkCycles())
  }

  @Test func simpleDAG() async throws {
    let a = (1...7).map { sleepJob(Double($0) * 0.05, label: "a\($0)") }
    a[3].requires(a[0], a[1], a[2])
    a[4].requires(a[3])
    a[5].requires(a[3])
    a[6].requires(a[4], a[5])
    let scheduler = Scheduler(a)
    #expect(scheduler.checkCycles())
    let (ok, time) = try await timed { try await scheduler.run() }
    #expect(ok)
    // a4 starts at 0.15, a5/a6 at 0.35, a7 at 0.65, end at 1.0.
    #expect(about(time, 1.0))
    #expect(a.allSatisfy { $0.isDone && $0.error == nil })
    #expect(a[6].startedAt! - a[5].endedAt! >= .zero)
    let listing = scheduler.list(symbols: .unicode)
    #expect(listing.contains("<Job `a4`> [[ -> 200.0]] requires={1, 2, 3}"))
    #expect(scheduler.debrief(symbols: .unicode).hasPrefix("----- FINE\n"))
  }

  @Test func forever1() async throws {
    let a1 = sleepJob(0.2, label: "a1")
    let a2 = sleepJob(0.3, label: "a2", requires: [a1])
    let t1 = tickJob(0.06, label: "t1")
    let scheduler = Scheduler(a1, a2, t1)
    let (ok, time) = try await timed { try await scheduler.run() }
    #expect(ok)
    #expect(about(time, 0.5))
    #expect(t1.badge(.unicode) == "⚠ ☉ ↺ ∞")
    #expect(t1.resultText == "[not done]")
    #expect(t1.wasCancelled)
  }

  @Test func timeout1() async throws {
    let a1 = sleepJob(0.25, label: "a1")
    let a2 = sleepJob(0.3, label: "a2", requires: [a1])
    let a3 = sleepJob(0.35, label: "a3", requires: [a2])
    let scheduler = Scheduler(a1, a2, a3, timeout: .seconds(0.5), critical: false)
    let (ok, time) = try await timed { try await scheduler.run() == false }
    #expect(ok)
    #expect(about(time, 0.5))
    #expect(a1.isDone)
    #expect(a2.isRunning && a2.wasCancelled && a2.result == nil)
    #expect(a3.isIdle)
    #expect(scheduler.failedTimeout)
    #expect(scheduler.why() == "TIMED OUT after 0.5s")
  }

  @Test(arguments: [false, true]) func exceptionNonCritical(verbose: Bool) async throws {
    let fine = sleepJob(0.4, label: "ok", scale: 1)
    let boom = Job(label: "non critical boom", critical: false) {
      try await Task.sleep(for: .seconds(0.2))
      throw BoomError(message: "500000.0")
    }
    let scheduler = Scheduler(fine, boom, verbose: verbose)
    let (ok, time) = try await timed { try await scheduler.run() }
    #expect(ok)
    #expect(about(time, 0.4))
    #expect(boom.isDone && boom.error as? BoomError == BoomError(message: "500000.0"))
    #expect(fine.isDone && fine.result as? Double == 0.4)
    let debrief = scheduler.debrief(symbols: .unicode)
    #expect(debrief.hasPrefix("----- FINE\n"))
    #expect(debrief.contains("===== 1 job(s) with an exception, including 0 critical\n"))
    #expect(debrief.contains("non-critical: non critical boom: exception 500000.0\n"))
  }

  @Test(arguments: [false, true]) func exceptionCritical(verbose: Bool) async throws {
    let fine = sleepJob(0.6, label: "ok", scale: 1)
    let boom = boomJob(0.2, label: "boom")
    let scheduler = Scheduler(fine, boom, critical: false, verbose: verbose)
    let (ok, time) = try await timed { try await scheduler.run() == false }
    #expect(ok)
    #expect(about(time, 0.2))
    #expect(fine.badge(.unicode) == "⚠ ☉ ↺  " && fine.resultText == "[not done]")
    #expect(scheduler.failedCritical)
    #expect(scheduler.why() == "a CRITICAL job has raised an exception")
    #expect(scheduler.stats() == "1D + 1R + 0I = 2")
    #expect(scheduler.debrief(symbols: .unicode).contains("including 1 critical"))
  }

  @Test func sequences() async throws {
    // sequence1
    var a = (1...3).map { sleepJob(0.05, label: "a\($0)") }
    var scheduler = Scheduler(JobSequence(a[0], a[1], a[2]))
    #expect(a.map(\.requirements.count) == [0, 1, 1])
    #expect(try await scheduler.run())
    // sequence2: a sequence with a requirement
    a = (1...3).map { sleepJob(0.05, label: "a\($0)") }
    let s2 = JobSequence(a[1], a[2]).requires(a[0])
    scheduler = Scheduler(a[0], s2)
    #expect(a.map(\.requirements.count) == [0, 1, 1])
    #expect(try await scheduler.run())
    // sequence3: a job requiring a sequence requires its last job
    a = (1...3).map { sleepJob(0.05, label: "a\($0)") }
    let s3 = JobSequence(a[0], a[1])
    a[2].requires(s3)
    scheduler = Scheduler(s3, a[2])
    #expect(a[2].requirements.first === a[1])
    #expect(try await scheduler.run())
    // sequence4: nested sequences, no duplicates
    a = (1...4).map { sleepJob(0.05, label: "a\($0)") }
    scheduler = Scheduler(JobSequence(JobSequence(a[0], a[1]), JobSequence(a[2], a[3])))
    #expect(a.map(\.requirements.count) == [0, 1, 1, 1])
    #expect(a[2].requirements.first === a[1])
    #expect(try await scheduler.run())
    // sequence5: chains of sequences
    a = (1...6).map { sleepJob(0.05, label: "a\($0)") }
    let q1 = JobSequence(a[0], a[1])
    let q2 = JobSequence(a[2], a[3]).requires(q1)
    let q3 = JobSequence(a[4], a[5]).requires(q2)
    scheduler = Scheduler(q1, q2, q3)
    #expect(a.map(\.requirements.count) == [0, 1, 1, 1, 1, 1])
    #expect(a[4].requirements.first === a[3])
    let (ok, time) = try await timed { try await scheduler.run() }
    #expect(ok)
    #expect(about(time, 0.3))
    // sequence6: add returns its argument
    a = (1...3).map { sleepJob(0.05, label: "a\($0)") }
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
    let a1 = sleepJob(0.1, scale: 1)
    let a2 = sleepJob(0.2, scale: 1)
    let a3 = sleepJob(5, scale: 1)
    let scheduler = Scheduler(a1, a2, a3, timeout: .seconds(0.4), critical: false)
    let (ok, time) = try await timed { try await scheduler.run() == false }
    #expect(ok)
    #expect(about(time, 0.4))
    #expect(a1.result as? Double == 0.1 && a2.result as? Double == 0.2)
    #expect(!a3.isDone)
  }

  @Test func forever2() async throws {
    let a1 = sleepJob(0.3)
    let a2 = tickJob(0.05)
    let (ok, time) = try await timed { try await Scheduler(a1, a2).run() }
    #expect(ok)
    #expect(about(time, 0.3))
    #expect(a1.isDone && !a2.isDone)
  }

  @Test func creationAndAppend() async throws {
    let scheduler = Scheduler()
    var sequence = JobSequence(sleepJob(0.1, label: "s1"), sleepJob(0.2, label: "s2"))
    let last = Job(label: "last") {
      try await Task.sleep(for: .seconds(0.3))
      return 3
    }
    last.requires(sequence)
    let appended = sleepJob(0.15, label: "appended")
    sequence.append(appended)
    scheduler.update(sequence, last)
    #expect(scheduler.count == 4)
    #expect(appended.requirements.first?.effectiveLabel == "s2")
    #expect(scheduler.checkCycles())
    let (ok, time) = try await timed { try await scheduler.run() }
    #expect(ok)
    #expect(about(time, 0.6))
  }

  @Test func window() async throws {
    let jobs = (1...15).map { PrintJob("window \($0)", sleep: .seconds(0.1)) }
    let scheduler = Scheduler(jobs, jobsWindow: 3)
    let (ok, time) = try await timed { try await scheduler.run() }
    #expect(ok)
    #expect(about(time, 0.5))
  }

  @Test func noWindow() async throws {
    for window in [nil, 0, -1] as [Int?] {
      let jobs = (1...15).map { _ in sleepJob(0.1) }
      let scheduler = Scheduler(jobs, jobsWindow: window)
      let (ok, time) = try await timed { try await scheduler.run() }
      #expect(ok)
      #expect(about(time, 0.1))
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
          let label = "forever=\(forever ? "True" : "False") crit.=\(critical ? "True" : "False")"
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
