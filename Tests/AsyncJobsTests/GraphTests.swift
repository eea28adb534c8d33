import Foundation
import Testing

@testable import AsyncJobs

/// Reference §3.2 (cycles), §3.3 (graph), §3.5 (bypass/keep), §3.7 (png/dot).
@Suite struct GraphTests {
  @Test func flatCycles() async throws {
    let j = (1...3).map { noop("j\($0)") }
    let scheduler = Scheduler(j)
    j[2].requires(j[1])
    j[1].requires(j[0])
    #expect(scheduler.checkCycles())
    j[0].requires(j[2])
    #expect(!scheduler.checkCycles())
    await #expect(throws: SchedulerError.cycle(scheduler: "NOLABEL", jobs: ["j1", "j3", "j2"])) {
      try await scheduler.run()
    }
    #expect(j.allSatisfy { $0.isIdle })
  }

  @Test func nestedCycles() throws {
    let js = (1...3).map { noop("js\($0)") }
    let s2 = Scheduler(JobSequence(js), label: "s2")
    let j = (1...3).map { noop("j\($0)") }
    let s1 = Scheduler(JobSequence(j[0], s2, j[2]), label: "s1")
    #expect(s1.checkCycles())
    js[0].requires(js[2])
    #expect(!s1.checkCycles())
    js[0].removeRequirement(js[2])
    #expect(s1.checkCycles())
    j[0].requires(j[2])
    #expect(!s1.checkCycles())
    j[0].removeRequirement(j[2])
    #expect(s1.checkCycles())
    let jss = (1...3).map { noop("jss\($0)") }
    let s3 = Scheduler(JobSequence(jss), label: "s3")
    s2.remove(js[1])
    s2.sanitize()
    s2.add(s3)
    s3.requires(js[0])
    js[2].requires(s3)
    #expect(s1.checkCycles())
    js[0].requires(js[2])
    #expect(!s1.checkCycles())
    #expect(throws: SchedulerError.self) { try s2.topologicalOrder() }
  }

  @Test func cycleInNestedSchedulerStopsRunBeforeStart() async throws {
    let inner = (1...2).map { noop("in\($0)") }
    inner[0].requires(inner[1])
    inner[1].requires(inner[0])
    let first = noop("first")
    let top = Scheduler(first, Scheduler(inner, label: "inner"))
    do {
      _ = try await top.run()
      Issue.record("run() should throw")
    } catch let error as SchedulerError {
      #expect("\(error)".contains("inner") && "\(error)".contains("in1") && "\(error)".contains("in2"))
    }
    #expect(first.isIdle)
  }

  @Test func requirementOutsideScheduler() async throws {
    let outsider = noop("outsider")
    let member = noop("member").requires(outsider)
    let scheduler = Scheduler(member, label: "top")
    await #expect(
      throws: SchedulerError.requirementOutsideScheduler(
        scheduler: "top", job: "member", requirement: "outsider")
    ) { try await scheduler.run() }
    #expect(!scheduler.checkCycles())
    #expect(scheduler.sanitize() == false)
    #expect(scheduler.sanitize() == true)
    #expect(try await scheduler.run())
  }

  @Test func sanitizeNested() {
    let j11 = noop("j11")
    let j12 = noop("j12")
    let j13 = noop("j13")
    let s2 = Scheduler(JobSequence(j11, j12, j13), label: "s2")
    let j1 = noop("j1")
    let j2 = noop("j2")
    let j3 = noop("j3")
    let s1 = Scheduler(JobSequence(j1, s2, j3), label: "s1")
    j12.requires(noop("j14"))
    j13.requires(noop("j15"))
    j1.requires(noop("j4"), j11)
    s2.requires(j13)
    j2.requires(j1)
    #expect([j12, j13, j1, s2, j3].map(\.requirements.count) == [2, 2, 2, 2, 1])
    #expect(!s1.sanitize())
    #expect([j12, j13, j1, s2, j3].map(\.requirements.count) == [1, 1, 0, 1, 1])
    #expect(j2.requirements.count == 1)
  }

  /// Custom labels and details (test_graph.py graph2).
  @Test func labelsAndDetails() {
    final class TextJob: AbstractJob, @unchecked Sendable {
      let text: String
      init(_ text: String, label: String? = nil) {
        self.text = text
        super.init(label: label)
      }
      override var textLabel: String? { "[[TextJob \(String(text.reversed()))]]" }
      override var details: String? { "TextJob details\non several lines" }
    }
    final class GraphJob: AbstractJob, @unchecked Sendable {
      let graph: String
      init(_ graph: String, label: String? = nil) {
        self.graph = graph
        super.init(label: label)
      }
      override var graphLabel: String? { "[[GraphJob\n\(String(graph.reversed()))]]" }
      override var details: String? { "GraphJob details" }
    }
    let scheduler = Scheduler(
      TextJob("textjob"), TextJob("textjob", label: "explicit"), GraphJob("graphjob"),
      GraphJob("graphjob", label: "explicit graph"))
    #expect(scheduler.count == 4)
    let listing = scheduler.list(details: true, symbols: .unicode)
    #expect(listing.contains("<TextJob `[[TextJob bojtxet]]`>"))
    #expect(listing.contains("<TextJob `explicit`>"))
    #expect(listing.contains("TextJob details\non several lines\n"))
    #expect(listing.contains("<GraphJob `explicit graph`>"))
    #expect(!scheduler.list(symbols: .unicode).contains("details"))
    let dot = scheduler.dot()
    #expect(dot.contains("label=\"[[GraphJob\nbojhparg]]\""))
    #expect(!dot.contains("explicit graph"))
    #expect(dot.contains("label=\"2: explicit\""))
  }

  @Test func printJobDetails() {
    #expect(PrintJob("hello", "world", sleep: .seconds(0.05)).details == "[+ sleep 0.05s] msg= hello...")
    #expect(PrintJob("hello").details == "msg= hello")
  }

  // MARK: - bypass and keep (test_bypass.py)

  /// A scheduler holding `n` jobs labelled j1…jn.
  func numbered(_ count: Int) -> (Scheduler, [AbstractJob]) {
    let jobs: [AbstractJob] = (1...count).map { noop("j\($0)") }
    return (Scheduler(jobs), [noop("j0")] + jobs)  // 1-based
  }

  /// j1 → {j2, j3} → j4 → {j5, j6} → j7 (→ {j8, j9} → j10 for three diamonds).
  func diamonds(_ count: Int) -> (Scheduler, [AbstractJob]) {
    let (scheduler, j) = numbered(3 * count + 1)
    for d in 0..<count {
      let top = 3 * d + 1
      j[top + 1].requires(j[top])
      j[top + 2].requires(j[top])
      j[top + 3].requires(j[top + 1], j[top + 2])
    }
    return (scheduler, j)
  }

  @Test func bypass1() throws {
    let (s, j) = numbered(5)
    j[5].requires(j[4].requires(j[3].requires(j[2].requires(j[1]))))
    #expect(labelSet(s.downstream(of: j[1])) == ["j2", "j3", "j4", "j5"])
    #expect(labelSet(s.upstream(of: j[5])) == ["j1", "j2", "j3", "j4"])
    try s.bypassAndRemove(j[3])
    #expect(s.sanitize())
    #expect(!s.contains(j[3]))
    #expect(j[4].requirements.contains { $0 === j[2] })
    #expect(throws: SchedulerError.self) { try s.bypassAndRemove(j[3]) }
  }

  @Test func bypass2() throws {
    let (s, j) = numbered(5)
    j[3].requires(j[1])
    j[2].requires(j[1])
    j[4].requires(j[2], j[3])
    j[5].requires(j[4])
    #expect(labelSet(s.downstream(of: j[1])) == ["j2", "j3", "j4", "j5"])
    #expect(labelSet(s.downstream(of: j[2])) == ["j4", "j5"])
    #expect(labelSet(s.downstream(of: j[3])) == ["j4", "j5"])
    #expect(labelSet(s.upstream(of: j[4])) == ["j1", "j2", "j3"])
    try s.bypassAndRemove(j[4])
    #expect(labelSet(j[5].requirements) == ["j2", "j3"])
    #expect(labelSet(s.downstream(of: j[1])) == ["j2", "j3", "j5"])
    #expect(labelSet(s.upstream(of: j[5])) == ["j1", "j2", "j3"])
  }

  @Test func bypass3() throws {
    let (s, j) = diamonds(2)
    #expect(labelSet(s.downstream(of: j[1])) == ["j2", "j3", "j4", "j5", "j6", "j7"])
    #expect(labelSet(s.downstream(of: j[4])) == ["j5", "j6", "j7"])
    #expect(s.downstream(of: j[7]).isEmpty && s.upstream(of: j[1]).isEmpty)
    #expect(labelSet(s.upstream(of: j[4])) == ["j1", "j2", "j3"])
    #expect(labelSet(s.upstream(of: j[7])) == ["j1", "j2", "j3", "j4", "j5", "j6"])
    try s.bypassAndRemove(j[4])
    #expect(labelSet(j[5].requirements) == ["j2", "j3"] && labelSet(j[6].requirements) == ["j2", "j3"])
    #expect(labelSet(s.downstream(of: j[1])) == ["j2", "j3", "j5", "j6", "j7"])
    #expect(labelSet(s.downstream(of: j[3])) == ["j5", "j6", "j7"])
    #expect(labelSet(s.downstream(of: j[6])) == ["j7"])
    #expect(labelSet(s.upstream(of: j[3])) == ["j1"])
    #expect(labelSet(s.upstream(of: j[6])) == ["j1", "j2", "j3"])
    #expect(labelSet(s.upstream(of: j[7])) == ["j1", "j2", "j3", "j5", "j6"])
    #expect(s.sanitize())
    try s.bypassAndRemove(j[1])
    #expect(j[2].requirements.isEmpty && j[3].requirements.isEmpty)
    #expect(labelSet(s.downstream(of: j[3])) == ["j5", "j6", "j7"])
    #expect(labelSet(s.upstream(of: j[7])) == ["j2", "j3", "j5", "j6"])
    #expect(s.sanitize())
    try s.bypassAndRemove(j[7])
    #expect(s.successors(of: j[5]).isEmpty && s.successors(of: j[6]).isEmpty)
    #expect(s.sanitize())
  }

  @Test func bypassSequence() throws {
    let j = (0...5).map { noop("j\($0)") }
    let s = Scheduler(JobSequence(j[1], j[2], j[3], j[4], j[5]))
    try s.bypassAndRemove(j[3])
    #expect(labelSet(j[4].requirements) == ["j2"])
    #expect(labelSet(s.downstream(of: j[1])) == ["j2", "j4", "j5"])
    #expect(labelSet(s.downstream(of: j[2])) == ["j4", "j5"])
    #expect(labelSet(s.downstream(of: j[4])) == ["j5"])
    #expect(s.downstream(of: j[5]).isEmpty && s.upstream(of: j[1]).isEmpty)
    #expect(labelSet(s.upstream(of: j[2])) == ["j1"])
    #expect(labelSet(s.upstream(of: j[4])) == ["j1", "j2"])
    #expect(labelSet(s.upstream(of: j[5])) == ["j1", "j2", "j4"])
  }

  @Test func keepBetween() {
    var (s, j) = diamonds(2)
    s.keepOnlyBetween(starts: [j[2], j[3]], ends: [j[5], j[6]])
    #expect(labels(s.jobs) == ["j2", "j3", "j4", "j5", "j6"])
    (s, j) = diamonds(2)
    s.keepOnlyBetween(starts: [j[4]])
    #expect(labels(s.jobs) == ["j4", "j5", "j6", "j7"])
    (s, j) = diamonds(2)
    s.keepOnlyBetween(starts: [j[4]], keepStarts: false)
    #expect(labels(s.jobs) == ["j5", "j6", "j7"])
    #expect(j[5].requirements.isEmpty)
    func diamondsOdd() -> (Scheduler, [AbstractJob]) {
      let (s, j) = diamonds(3)
      let odd = noop("j_odd").requires(j[2])
      j[7].requires(odd)
      s.add(odd)
      return (s, j)
    }
    (s, j) = diamondsOdd()
    s.keepOnlyBetween(starts: [j[2], j[3]], ends: [j[5], j[6]])
    #expect(labelSet(s.jobs) == ["j2", "j3", "j4", "j5", "j6"])
    (s, j) = diamondsOdd()
    s.keepOnlyBetween(starts: [j[2], j[3]], ends: [j[8], j[9]], keepEnds: false)
    #expect(labelSet(s.jobs) == ["j2", "j3", "j4", "j5", "j6", "j7", "j_odd"])
  }

  @Test func keepOnly() {
    var (s, j) = diamonds(3)
    s.keepOnly([j[1], j[2], j[3], j[4]])
    #expect(s.count == 4)
    #expect(s.successors(of: j[1]).count == 2 && s.predecessors(of: j[1]).count == 0)
    #expect(s.successors(of: j[2]).count == 1 && s.predecessors(of: j[2]).count == 1)
    #expect(s.successors(of: j[4]).count == 0 && s.predecessors(of: j[4]).count == 2)
    (s, j) = diamonds(3)
    s.keepOnly([j[1], j[4], j[7], noop("outsider")])
    #expect(s.count == 3)
    for job in s.jobs {
      #expect(s.successors(of: job).isEmpty && s.predecessors(of: job).isEmpty)
    }
    #expect(labels(s.entryJobs) == ["j1", "j4", "j7"] && labels(s.exitJobs()) == ["j1", "j4", "j7"])
  }

  // MARK: - DOT and SVG (test_png.py)

  func diamondScheduler(_ label: String, critical: Bool = true, forever: Bool = false) -> Scheduler {
    let j = (1...4).map { noop("\(label)-\($0)") }
    j[1].requires(j[0])
    j[2].requires(j[0])
    j[3].requires(j[1], j[2])
    return Scheduler(j, critical: critical, forever: forever, label: label)
  }

  func pipesScheduler(_ label: String, pipes: Int = 2, length: Int = 2) -> Scheduler {
    let scheduler = Scheduler(label: label)
    for pipe in 1...pipes {
      scheduler.add(JobSequence((1...length).map { noop("\(label) p\(pipe)-\($0)") }))
    }
    return scheduler
  }

  /// Renders `scheduler` to SVG with graphviz and checks the file holds every label.
  func checkSVG(_ scheduler: Scheduler, name: String, labels: [String]) async throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
      "asyncjobs-\(name)-\(UUID().uuidString).svg"
    ).path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try await scheduler.exportGraphic(to: path)
    let svg = try String(contentsOfFile: path, encoding: .utf8)
    #expect(svg.contains("<svg") && svg.contains("</svg>"))
    for label in labels {
      let escaped = label.replacingOccurrences(of: "-", with: "&#45;")
      #expect(svg.contains(escaped), "\(label) missing from \(name).svg")
    }
  }

  @Test func graphvizFailureIsAnError() async throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("asyncjobs-\(UUID().uuidString).x").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    await #expect(throws: GraphicExportError.self) {
      try await Scheduler(noop("a")).exportGraphic(to: path, format: "no-such-format")
    }
    #expect(!FileManager.default.fileExists(atPath: path + ".dot"), "the DOT source is removed")
  }

  @Test func dotEasy1() async throws {
    let s = Scheduler(JobSequence(noop("begin"), diamondScheduler("diamond"), noop("end")))
    let dot = s.dot()
    #expect(dot.hasPrefix("digraph asynciojobs{\ncompound=true;\ngraph [];\n"))
    #expect(dot.contains("subgraph cluster_2{\ncompound=true;\ngraph [style=\"\",label=\"2: diamond\""))
    #expect(dot.contains("1 -> 3 [lhead=cluster_2];\n"))
    #expect(dot.contains("6 -> 7 [ltail=cluster_2];\n"))
    try await checkSVG(s, name: "easy1", labels: ["begin", "diamond-4", "end"])
  }

  @Test func dotEasy2() async throws {
    let s = Scheduler(JobSequence(noop("begin"), pipesScheduler("pipes"), noop("end")))
    let dot = s.dot()
    // Entries {3, 5}: middle is 3; exits {4, 6}: middle is 4.
    #expect(dot.contains("1 -> 3 [lhead=cluster_2];\n"))
    #expect(dot.contains("4 -> 7 [ltail=cluster_2];\n"))
    try await checkSVG(s, name: "easy2", labels: ["begin", "pipes p2-2", "end"])
  }

  @Test func dotBetweenSchedulers() async throws {
    let s = Scheduler(
      JobSequence(noop("begin"), diamondScheduler("diamond"), pipesScheduler("pipes"), noop("end")))
    let dot = s.dot()
    #expect(dot.contains("06 -> 08 [lhead=cluster_07 ltail=cluster_02];\n"))
    try await checkSVG(s, name: "simple", labels: ["diamond-1", "pipes p1-1"])
  }

  @Test func dotStyles() async throws {
    let regular = noop("regular", critical: false)
    let critical = noop("critical", critical: true)
    let forever = noop("forever", critical: false, forever: true)
    let both = noop("both", critical: true, forever: true)
    let s = Scheduler(regular, critical, forever, both)
    let dot = s.dot()
    #expect(dot.contains("1 [style=\"rounded\",label=\"1: regular\",shape=\"box\",penwidth=\"0.5\"]\n"))
    #expect(
      dot.contains("2 [style=\"rounded\",label=\"2: critical\",shape=\"box\",color=\"red\",penwidth=\"2\"]\n"))
    #expect(dot.contains("3 [style=\"rounded,dashed\",label=\"3: forever\",shape=\"box\",penwidth=\"0.5\"]\n"))
    #expect(dot.contains("4 [style=\"rounded,dashed\",label=\"4: both\",shape=\"box\",color=\"red\",penwidth=\"2\"]\n"))
    let quoted = Scheduler(noop("x\"quoted\""), Job(label: "multi\nline", critical: false, forever: true) { nil })
    #expect(quoted.dot().contains("label=\"1: x\\\"quoted\\\"\""))
    #expect(
      quoted.dot().contains("2 [style=\"rounded,dashed\",label=\"2: multi\nline\",shape=\"box\",penwidth=\"0.5\"]"))
    try await checkSVG(s, name: "styles1", labels: ["regular", "critical", "forever", "both"])
  }

  @Test func dotNestedStyles() async throws {
    let s = Scheduler(
      pipesScheduler("S1", pipes: 6), diamondScheduler("S2", critical: false, forever: true),
      diamondScheduler("S3", critical: true, forever: false))
    let dot = s.dot()
    #expect(dot.contains("graph [style=\"dashed\",label=\"14: S2\",shape=\"box\",penwidth=\"0.5\"];"))
    #expect(dot.contains("graph [style=\"\",label=\"19: S3\",shape=\"box\",color=\"red\",penwidth=\"2\"];"))
    try await checkSVG(s, name: "styles2", labels: ["S1", "S2", "S3"])
  }

  @Test func dotOrderFilledLater() async throws {
    let subs = (1...4).map { Scheduler(label: "sub\($0)") }
    let s = Scheduler(JobSequence(noop("top"), subs[0], noop("middle"), subs[1], subs[2], subs[3]))
    for (index, sub) in subs.enumerated() {
      sub.add(JobSequence((1...(index == 3 ? 4 : 3)).map { noop("sub\(index + 1)-\($0)") }))
    }
    #expect(s.list(symbols: .unicode).split(separator: "\n").count == 6 + 13 + 4)
    try await checkSVG(s, name: "order1", labels: ["sub4-4", "middle"])
  }

  /// README DOT example, written with `exportDot`.
  @Test func readmeDotFile() throws {
    let j1 = noop("init", critical: false)
    let j2 = noop("critical job", critical: true).requires(j1)
    let j3 = noop("forever job", critical: false, forever: true).requires(j1)
    let s = Scheduler(j1, j2, j3)
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("readme-\(UUID()).dot").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try s.exportDot(to: path)
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.contains("1 [style=\"rounded\",label=\"1: init\",shape=\"box\",penwidth=\"0.5\"]"))
    #expect(text.contains("color=\"red\",penwidth=\"2\""))
    #expect(text.contains("3 [style=\"rounded,dashed\",label=\"3: forever job\""))
    #expect(text.contains("1 -> 2;\n") && text.contains("1 -> 3;\n"))
  }
}
