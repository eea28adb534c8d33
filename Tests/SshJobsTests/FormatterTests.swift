import Foundation
import TestSupport
import Testing

@testable import SshJobs

@Suite struct FormatterTests {
  let alpha = OutputOrigin(hostname: "localhost", username: "root")
  let beta = OutputOrigin(hostname: "fit01.inria.fr", username: "r")
  let gamma = OutputOrigin(hostname: "127.0.0.1", username: "apsshuser")

  private func feed(
    _ formatter: any OutputFormatter, _ text: String, _ origin: OutputOrigin, stream: OutputChunk.Stream = .stdout
  ) {
    let relay = OutputRelay(formatter: formatter, origin: origin, capturing: false)
    relay.receive(ArraySlice(Array(text.utf8)), stream: stream)
    relay.finish()
  }

  @Test func hostFormatterPadsHostsOnTheRightSoLinesStartWithTheirHost() {
    let sink = BufferSink()
    let formatter = HostFormatter(sink: sink)
    for origin in [alpha, beta, gamma] { formatter.register(origin) }
    feed(formatter, "hello\n", alpha)
    feed(formatter, "hello\n", beta)
    feed(formatter, "err\n", gamma, stream: .stderr)
    // The reference centred them (`  fit01  :hello`): `grep '^fit01'` missed the line.
    #expect(sink.stdoutText == "localhost:hello\nfit01    :hello\n")
    #expect(sink.stderrText == "127.0.0.1:err\n")
    let short = OutputOrigin(hostname: "127.0.0.2", username: "u")
    let long = OutputOrigin(hostname: "127.0.0.100", username: "u")
    let mixed = BufferSink()
    let padded = HostFormatter(sink: mixed)
    padded.register(short)
    padded.register(long)
    feed(padded, "a\nb\n", short)
    feed(padded, "c\n", long)
    let lines = mixed.stdoutText.split(separator: "\n")
    #expect(lines == ["127.0.0.2  :a", "127.0.0.2  :b", "127.0.0.100:c"])
    #expect(lines.filter { $0.hasPrefix("127.0.0.2") && !$0.hasPrefix("127.0.0.20") }.count == 2)
  }

  @Test func partialLinesAreReassembledAndTheLastEndsALineOfItsOwn() {
    let sink = BufferSink()
    let formatter = HostFormatter(sink: sink)
    formatter.register(alpha)
    let relay = OutputRelay(formatter: formatter, origin: alpha, capturing: false)
    for piece in ["li", "ne1\nline", "2\nline3\nta", "il"] {
      relay.receive(ArraySlice(Array(piece.utf8)), stream: .stdout)
    }
    relay.receive(ArraySlice(Array("e1\ne2".utf8)), stream: .stderr)
    #expect(sink.stdoutText == "localhost:line1\nlocalhost:line2\nlocalhost:line3\n")
    relay.finish()
    // The next host's line never continues an unterminated one (as clush and pssh do).
    #expect(sink.stdoutText == "localhost:line1\nlocalhost:line2\nlocalhost:line3\nlocalhost:tail\n")
    #expect(sink.stderrText == "localhost:e1\nlocalhost:e2\n")
  }

  @Test func rawOutputKeepsItsBytesExactly() {
    let sink = BufferSink()
    let formatter = RawFormatter(sink: sink)
    let relay = OutputRelay(formatter: formatter, origin: alpha, capturing: false)
    relay.receive(ArraySlice(Array("a\nb".utf8)), stream: .stdout)
    relay.finish()
    #expect(sink.stdoutText == "a\nb")
  }

  @Test func overLongLinesAreSplitAndMemoryStaysBounded() {
    let piece = OutputRelay.longestLine
    let line = [UInt8](repeating: 0x78, count: 3 * piece + 100)
    // Prefixed: each piece of the line is a line of its own.
    let sink = BufferSink()
    let formatter = HostFormatter(sink: sink)
    formatter.register(alpha)
    let relay = OutputRelay(formatter: formatter, origin: alpha, capturing: false)
    for start in stride(from: 0, to: line.count, by: 1000) {
      relay.receive(line[start..<min(start + 1000, line.count)], stream: .stdout)
    }
    #expect(sink.stdout.count == 3 * (piece + "localhost:\n".utf8.count), "pieces are handed over as they fill")
    relay.receive(ArraySlice(Array("\nnext\n".utf8)), stream: .stdout)
    let lines = sink.stdoutText.split(separator: "\n")
    #expect(lines.map(\.count) == [piece, piece, piece, 100, 4].map { $0 + "localhost:".count })
    // Raw: the same bytes come out, whatever the line length.
    let rawSink = BufferSink()
    let raw = OutputRelay(formatter: RawFormatter(sink: rawSink), origin: alpha, capturing: false)
    for start in stride(from: 0, to: line.count, by: 4096) {
      raw.receive(line[start..<min(start + 4096, line.count)], stream: .stdout)
    }
    raw.finish()
    #expect(rawSink.stdout == line)
  }

  @Test func remoteTextNeverExpandsPlaceholders() {
    let sink = BufferSink()
    let formatter = TemplateFormatter(format: "[{host}|{user}] {line}{nl}", sink: sink)
    formatter.register(alpha)
    feed(formatter, "{host} inside {nl} %H {user}\n", alpha)
    #expect(sink.stdoutText == "[localhost|root] {host} inside {nl} %H {user}\n")
  }

  @Test func templatePlaceholdersAndTime() throws {
    let sink = BufferSink()
    let formatter = TemplateFormatter(format: "{fqdn}/{host}/{user} %% {linenl}", sink: sink)
    formatter.register(beta)
    formatter.register(gamma)
    feed(formatter, "x\n", beta)
    // fqdn width 14, host width 9, user width 9, each padded on the right; {user} is the name alone.
    #expect(sink.stdoutText == "fit01.inria.fr/fit01    /r         % x\n")
    let alone = BufferSink()
    let user = TemplateFormatter(format: "{user}@{fqdn}: {line}{nl}", sink: alone)
    user.register(beta)
    feed(user, "y\n", beta)
    #expect(alone.stdoutText == "r@fit01.inria.fr: y\n")
    let timed = BufferSink()
    let time = TimeHostFormatter(sink: timed)
    time.register(alpha)
    feed(time, "a\nb\n", alpha)
    let lines = timed.stdoutText.split(separator: "\n")
    #expect(lines.count == 2)
    let regex = try Regex("^[0-9]{2}-[0-9]{2}-[0-9]{2}:localhost:[ab]$")
    #expect(lines.allSatisfy { $0.wholeMatch(of: regex) != nil })
  }

  @Test func rawFormatterAndEvents() {
    let sink = BufferSink()
    let quiet = RawFormatter(sink: sink)
    feed(quiet, "plain\n", alpha)
    quiet.event(.connecting(direct: true), from: alpha)
    quiet.event(.connectionFailed(reason: "connection refused"), from: alpha)
    quiet.event(.message("Run: -> true"), from: alpha)
    #expect(sink.stdoutText == "plain\n")
    #expect(sink.stderrText == "Connection failed to root@localhost : connection refused\nRun: -> true\n")
    let loud = BufferSink()
    let verbose = HostFormatter(verbose: true, sink: loud)
    verbose.register(alpha)
    verbose.event(.connecting(direct: false), from: alpha)
    verbose.event(.authenticated, from: alpha)
    verbose.event(.sessionStarted(command: "hostname"), from: alpha)
    #expect(
      loud.stderrText == """
        localhost:========== Connecting (tunnelled) to root@localhost
        localhost:========== Authorization OK root@localhost
        localhost:========== Session started for hostname

        """)
  }

  @Test func captureFormatterKeepsStdoutRaw() {
    let sink = BufferSink()
    let formatter = CaptureFormatter(sink: sink)
    feed(formatter, "LINE1\n", alpha)
    feed(formatter, "LINE2\n", alpha)
    feed(formatter, "oops\n", alpha, stream: .stderr)
    #expect(formatter.capture == "LINE1\nLINE2\n")
    #expect(sink.stdoutText.isEmpty)
    #expect(sink.stderrText == "oops\n")
    formatter.startCapture()
    #expect(formatter.capture.isEmpty)
  }

  @Test func subdirFormatterWritesOneFilePerHostAndStream() throws {
    let directory = try Fleet.temporaryDirectory() + "/run"
    let formatter = SubdirFormatter(directory: directory, verbose: true, sink: BufferSink())
    formatter.event(.connecting(direct: true), from: alpha)
    feed(formatter, "out1\nout2", alpha)
    feed(formatter, "bad\n", alpha, stream: .stderr)
    feed(formatter, "other\n", gamma)
    formatter.closeFiles()
    let out = try String(contentsOfFile: directory + "/localhost", encoding: .utf8)
    #expect(out == "Connected (direct) to root@localhost\nout1\nout2")
    #expect(try String(contentsOfFile: directory + "/localhost.err", encoding: .utf8) == "bad\n")
    #expect(try String(contentsOfFile: directory + "/127.0.0.1", encoding: .utf8) == "other\n")
  }

  @Test func mistypedPlaceholdersAreFoundAndOtherBracesAreText() {
    #expect(TemplateFormatter.unknownPlaceholders(in: "{host}:{linenl}").isEmpty)
    #expect(TemplateFormatter.unknownPlaceholders(in: "{nosuch}") == ["{nosuch}"])
    #expect(TemplateFormatter.unknownPlaceholders(in: "{hots} {line} {hots} {HOST}{nl}") == ["{hots}", "{HOST}"])
    #expect(TemplateFormatter.unknownPlaceholders(in: "{{host}} { } {1} {} {-x} {a b} {") == [])
    #expect(TemplateFormatter.unknownPlaceholders(in: "{{nosuch}}") == ["{nosuch}"])
    #expect(TemplateFormatter.placeholders.contains("{linenl}"))
    #expect(TemplateFormatter.showsLines("{host}:{line}"))
    #expect(!TemplateFormatter.showsLines("{host}{nl}"))
    // Seeded random templates: every unknown name found is in braces and is no placeholder; a
    // template built of placeholders and text without braces has none.
    var random = SeededRandom(seed: 12)
    let pieces = TemplateFormatter.placeholders + ["x", ":", " ", "%H", "é", "{", "}", "{{", "_", "-", "{zz}", "{a1}"]
    for _ in 0..<2_000 {
      let template = (0..<random.next(upTo: 12)).map { _ in pieces[random.next(upTo: pieces.count)] }.joined()
      for name in TemplateFormatter.unknownPlaceholders(in: template) {
        #expect(name.hasPrefix("{") && name.hasSuffix("}") && template.contains(name))
        #expect(!TemplateFormatter.placeholders.contains(name))
      }
      let clean = (0..<random.next(upTo: 12)).map { _ in pieces[random.next(upTo: 11)] }.joined()
      #expect(TemplateFormatter.unknownPlaceholders(in: clean).isEmpty, "\(clean)")
    }
  }

  @Test func hostFileNamesNeverLeadOutOfTheDirectory() {
    #expect(SubdirFormatter.fileName(of: "127.0.0.1") == "127.0.0.1")
    #expect(SubdirFormatter.fileName(of: "fe80::1%eth0") == "fe80::1%eth0")
    #expect(SubdirFormatter.fileName(of: "../../etc/passwd") == "%2E.%2F..%2Fetc%2Fpasswd")
    #expect(SubdirFormatter.fileName(of: "/etc/shadow") == "%2Fetc%2Fshadow")
    #expect(SubdirFormatter.fileName(of: ".") == "%2E")
    #expect(SubdirFormatter.fileName(of: "..") == "%2E.")
    #expect(SubdirFormatter.fileName(of: ".hidden") == "%2Ehidden")
    #expect(SubdirFormatter.fileName(of: "0ok") == "%30ok")
    #expect(SubdirFormatter.fileName(of: "1failed") == "%31failed")
    #expect(SubdirFormatter.fileName(of: "web.err") == "web%2Eerr")
    #expect(SubdirFormatter.fileName(of: "a\0b") == "a%00b")
    // Any name: one path component, never `.` or `..`, never a mark directory or a stderr file.
    var random = SeededRandom(seed: 7)
    let pieces = ["/", ".", "..", "a", "%", "0ok", "1failed", ".err", "\0", "é", "-", " "]
    for _ in 0..<3_000 {
      let host = (0..<(1 + random.next(upTo: 8))).map { _ in pieces[random.next(upTo: pieces.count)] }.joined()
      let name = SubdirFormatter.fileName(of: host)
      #expect(!name.isEmpty && !name.contains("/") && !name.contains("\0"), "\(host)")
      #expect(!name.hasPrefix(".") && !SubdirFormatter.markDirectories.contains(name), "\(host)")
      #expect(!name.hasSuffix(".err"), "\(host)")
    }
  }

  @Test func subdirFormatterNeverWritesThroughALinkNorOutsideItsDirectory() throws {
    let root = try Fleet.temporaryDirectory()
    let directory = root + "/run"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let victim = root + "/victim"
    try Data("precious\n".utf8).write(to: URL(fileURLWithPath: victim))
    try FileManager.default.createSymbolicLink(atPath: directory + "/localhost", withDestinationPath: victim)
    try FileManager.default.createSymbolicLink(atPath: directory + "/localhost.err", withDestinationPath: victim)
    let escaping = OutputOrigin(hostname: "../escaped", username: "root")
    let formatter = SubdirFormatter(directory: directory, sink: BufferSink())
    formatter.event(.connecting(direct: true), from: alpha)
    feed(formatter, "out\n", alpha)
    feed(formatter, "err\n", alpha, stream: .stderr)
    feed(formatter, "inside\n", escaping)
    formatter.writeMarks([(hostname: "../escaped", succeeded: true, contents: "0\n")])
    formatter.closeFiles()
    #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
    #expect(
      formatter.failures.map(\.description) == [
        "cannot write to \(directory)/localhost: it is a symbolic link (never followed)",
        "cannot write to \(directory)/localhost.err: it is a symbolic link (never followed)",
      ])
    #expect(!FileManager.default.fileExists(atPath: root + "/escaped"))
    #expect(try String(contentsOfFile: directory + "/%2E.%2Fescaped", encoding: .utf8) == "inside\n")
    #expect(try String(contentsOfFile: directory + "/0ok/%2E.%2Fescaped", encoding: .utf8) == "0\n")
    #expect(FileManager.default.fileExists(atPath: directory + "/1failed"), "both mark directories exist")
    // A link planted in a mark directory is not followed either.
    let marks = SubdirFormatter(directory: root + "/marks", sink: BufferSink())
    try FileManager.default.createDirectory(atPath: root + "/marks/1failed", withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(atPath: root + "/marks/1failed/localhost", withDestinationPath: victim)
    marks.writeMarks([(hostname: "localhost", succeeded: false, contents: "1\n")])
    #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
    #expect(marks.failures.map(\.errno) == [ELOOP])
  }

  @Test func preparingClearsThisRunsFilesAndOldMarksAndRefusesLinks() throws {
    let root = try Fleet.temporaryDirectory()
    let directory = root + "/run"
    let manager = FileManager.default
    try manager.createDirectory(atPath: directory + "/0ok", withIntermediateDirectories: true)
    try manager.createDirectory(atPath: directory + "/1failed", withIntermediateDirectories: true)
    for (path, text) in [
      ("localhost", "old\n"), ("localhost.err", "old error\n"), ("other-host", "keep\n"), ("notes.txt", "keep\n"),
      ("0ok/other-host", "0\n"), ("1failed/localhost", "1\n"),
    ] {
      try Data(text.utf8).write(to: URL(fileURLWithPath: directory + "/" + path))
    }
    try manager.createSymbolicLink(atPath: directory + "/0ok/stale-link", withDestinationPath: root + "/victim")
    let formatter = SubdirFormatter(directory: directory, sink: BufferSink())
    formatter.register(alpha)
    try formatter.prepare()
    #expect(!manager.fileExists(atPath: directory + "/localhost"))
    #expect(!manager.fileExists(atPath: directory + "/localhost.err"), "a stale .err would outlive the run")
    #expect(try manager.contentsOfDirectory(atPath: directory + "/0ok").isEmpty)
    #expect(try manager.contentsOfDirectory(atPath: directory + "/1failed").isEmpty)
    #expect(try String(contentsOfFile: directory + "/other-host", encoding: .utf8) == "keep\n")
    #expect(try String(contentsOfFile: directory + "/notes.txt", encoding: .utf8) == "keep\n")
    feed(formatter, "new\n", alpha)
    formatter.writeMarks([(hostname: "localhost", succeeded: true, contents: "0\n")])
    formatter.closeFiles()
    #expect(try String(contentsOfFile: directory + "/localhost", encoding: .utf8) == "new\n")
    #expect(try manager.contentsOfDirectory(atPath: directory + "/0ok") == ["localhost"])
    #expect(try manager.contentsOfDirectory(atPath: directory + "/1failed").isEmpty)
    #expect(formatter.failures.isEmpty)

    // In the way: a link for a host's file, a link for a mark directory, a directory among marks.
    // Each is an error naming it, and nothing is removed.
    let victim = root + "/victim"
    try Data("precious\n".utf8).write(to: URL(fileURLWithPath: victim))
    let outside = root + "/outside"
    try manager.createDirectory(atPath: outside, withIntermediateDirectories: true)
    try Data("keep\n".utf8).write(to: URL(fileURLWithPath: outside + "/file"))
    let cases: [(setUp: (String) throws -> Void, culprit: String, what: String)] = [
      (
        { try manager.createSymbolicLink(atPath: $0 + "/localhost.err", withDestinationPath: victim) },
        "localhost.err", "is a symbolic link (never followed, nor replaced), not the output file of a host"
      ),
      (
        { try manager.createSymbolicLink(atPath: $0 + "/0ok", withDestinationPath: outside) },
        "0ok", "is a symbolic link (never followed, nor replaced), not a directory of mark files"
      ),
      (
        { try manager.createDirectory(atPath: $0 + "/1failed/sub", withIntermediateDirectories: true) },
        "1failed/sub", "is a directory, not a mark file"
      ),
      (
        { try manager.createDirectory(atPath: $0 + "/localhost", withIntermediateDirectories: true) },
        "localhost", "is a directory, not the output file of a host"
      ),
    ]
    for (index, example) in cases.enumerated() {
      let run = root + "/case\(index)"
      try manager.createDirectory(atPath: run, withIntermediateDirectories: true)
      try Data("old\n".utf8).write(to: URL(fileURLWithPath: run + "/127.0.0.1"))
      try example.setUp(run)
      let refusing = SubdirFormatter(directory: run, sink: BufferSink())
      refusing.register(gamma)
      refusing.register(alpha)
      #expect {
        try refusing.prepare()
      } throws: { error in
        (error as? OutputDirectoryError)?.description
          == "\(run)/\(example.culprit) \(example.what); remove it, or choose another directory"
      }
      #expect(manager.fileExists(atPath: run + "/127.0.0.1"), "checked before anything is removed")
    }
    #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
    #expect(try String(contentsOfFile: outside + "/file", encoding: .utf8) == "keep\n")
  }

  @Test func shortHostnames() {
    #expect(OutputOrigin(hostname: "fit01.inria.fr", username: "").shortHostname == "fit01")
    #expect(OutputOrigin(hostname: "127.0.0.1", username: "").shortHostname == "127.0.0.1")
    #expect(OutputOrigin(hostname: "localhost", username: "").shortHostname == "localhost")
  }

  @Test func manyLinesAreFormattedFastAndInFewWrites() {
    final class CountingSink: OutputSink, @unchecked Sendable {
      let lock = NSLock()
      var writes = 0
      var bytes = 0
      func write(_ buffer: UnsafeRawBufferPointer, to stream: OutputChunk.Stream) {
        lock.withLock {
          writes += 1
          bytes += buffer.count
        }
      }
    }
    let sink = CountingSink()
    let formatter = HostFormatter(sink: sink)
    formatter.register(alpha)
    let line = Array(String(repeating: "x", count: 70).utf8) + [0x0A]
    var chunk: [UInt8] = []
    for _ in 0..<460 { chunk += line }
    let relay = OutputRelay(formatter: formatter, origin: alpha, capturing: false)
    for _ in 0..<300 { relay.receive(chunk[...], stream: .stdout) }
    relay.finish()
    #expect(sink.writes == 300)
    #expect(sink.bytes == 300 * 460 * (71 + "localhost:".count))
  }
}

@Suite struct VariablesAndLabelsTests {
  @Test func variablesRenderDefinedNamesOnly() throws {
    let env = Variables(["fetched": "a simple variable", "x": "{{y}}", "word": "plain"])
    // Values are quoted for the shell (one word each), unless `| raw`; a value is never re-read.
    #expect(env.render("echo fetched = {{fetched}}") == "echo fetched = 'a simple variable'")
    #expect(env.render("echo {{ fetched | raw }} {{word}}") == "echo a simple variable plain")
    #expect(env.render("{{ fetched }}/{{undefined}}/{{x}}") == "'a simple variable'/{{ undefined }}/'{{y}}'")
    env["late"] = "now"
    #expect(Run("echo", "{{late}}", variables: env).commandLine == "echo now")
    // About to run, every placeholder needs a value.
    #expect(throws: UndefinedVariableError.self) { try env.resolve("echo {{ undefined }}") }
    #expect(try env.resolve("echo {{late}}") == "echo now")
  }

  @Test func allowedExitsMatchCodesAndSignals() {
    let run = Run("true", allowedExits: [100, "TERM"])
    #expect(run.isSuccess(.code(0)))
    #expect(run.isSuccess(.code(100)))
    #expect(run.isSuccess(.signal("TERM")))
    #expect(!run.isSuccess(.signal("KILL")))
    #expect(!run.isSuccess(.code(232)))
    #expect(Run("x", allowedExits: ["SIGQUIT"]).isSuccess(.signal("QUIT")))
  }

  @Test func labelsAndDetails() {
    let node = SshNode(hostname: "fit01", username: "root", formatter: Fleet.quiet)
    let job = SshJob(
      node: node,
      commands: [
        Run("hostname"), RunScript("tests/testbasic.sh", "10"),
        RunString("#!/bin/bash\n\n# comment\necho hello world from a string", "1", "2"),
        Push(localPaths: ["a", "b"], remotePath: "dir"), Pull(remotePaths: ["r"], localPath: "l"),
        Run("ls", label: "labelled"),
      ])
    #expect(job.textLabel == "hostname.. + 5")
    #expect(
      job.details == """
        root@fit01
        hostname
        RunScript: testbasic.sh 10
        RunString: echo hello worl... 1 2
        Push: a ... (2 total) onto dir
        Pull: r into l
        labelled
        """)
    let scheduler = Scheduler(job)
    #expect(scheduler.list(details: true).contains("root@fit01\nhostname\n"))
    // A job holds its node only during a run: one that never runs keeps no connection open.
    #expect(node.userCount == 0)
  }

  @Test func topologyOfGatewaysAndJobs() {
    let gateway = SshNode(hostname: "faraday", username: "inria_tutorial", formatter: Fleet.quiet)
    let fit01 = SshNode(hostname: "fit01", username: "root", gateway: gateway, formatter: Fleet.quiet)
    let fit02 = SshNode(hostname: "fit02", username: "root", gateway: gateway, formatter: Fleet.quiet)
    let scheduler = Scheduler(
      SshJob(node: fit01, command: "hostname"), SshJob(node: fit01, command: "ls"),
      Scheduler(SshJob(node: fit02, command: "id")), SshJob(node: LocalNode(formatter: Fleet.quiet), command: "true"))
    #expect(
      topologyDot(of: scheduler) == """
        digraph apssh{
        graph[];
        0 [style="rounded", label="Local Node\\n1 job", shape="box"]
        1 [style="rounded", label="inria_tutorial@faraday", shape="box"]
        2 [style="rounded", label="root@fit01\\n2 jobs", shape="box"]
        3 [style="rounded", label="root@fit02\\n1 job", shape="box"]
        0 -> 1
        1 -> 2
        1 -> 3
        }

        """)
    #expect(fit01.description == "inria_tutorial@faraday->root@fit01")
    #expect(fit02.distance == 2)
  }

  /// Scenario 60, adapted: creating nodes makes no connection (key loading waits for the first command).
  @Test func creatingNodesConnectsNothing() async {
    let nodes = (0..<100).map { _ in SshNode(hostname: "127.0.0.1", formatter: Fleet.quiet) }
    for node in nodes {
      #expect(await node.connection.connectionCount == 0)
      #expect(await !node.connection.isConnected)
    }
  }
}
