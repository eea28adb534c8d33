import Foundation
import Testbed
import Testing

@testable import SshJobs

/// Reference scenario 62 (`test_graphics1`): a sequence of critical jobs of every command kind on
/// one node, listed with details and drawn as SVG, whose last job fails on a missing local script.
@Suite struct GraphicsScenarioTests {
  @Test func sequenceListingGraphAndMissingScript() async throws {
    let testbed = try await Fleet.shared()
    let scripts = try Fleet.scripts()
    let output = BufferSink()
    let node = Fleet.node(testbed, 3, formatter: HostFormatter(sink: output))
    let jobs: [AbstractJob] = [
      SshJob(node: node, command: "hostname"),
      SshJob(node: node, command: "ls /etc | wc -l"),
      SshJob(node: node, command: RunString("#!/bin/bash\necho from a string with a shebang")),
      SshJob(node: node, command: RunScript(scripts + "/script-with-args.sh", "10")),
      SshJob(node: node, command: RunString("#!/bin/sh\necho named \"$(basename $0)\"", remoteName: "named.sh")),
      SshJob(node: node, command: RunString("#!/bin/sh\necho \"$# args\"", "100", "200", "300", "400")),
      SshJob(
        node: node, command: RunString("#!/bin/sh\necho \"$# args\"", "1000", "2000", "3000", "4000", label: "snip")),
      SshJob(
        node: node,
        commands: [
          Run("hostname", label: "Run()"), RunScript(scripts + "/foobar", label: "RunScript()"),
          Run("echo never", label: ""),
        ]),
    ]
    let scheduler = Scheduler(JobSequence(jobs), critical: false)

    let listing = scheduler.list(details: true)
    #expect(listing.split(separator: "\n").filter { $0.contains("<SshJob") }.count == 8)
    #expect(listing.contains("snip"))
    #expect(listing.contains("\(testbed.username)@\(testbed.hosts[3].address)\nhostname\n"))
    let directory = try Fleet.temporaryDirectory()
    try await scheduler.exportGraphic(to: directory + "/graphics.svg")
    let svg = try String(contentsOfFile: directory + "/graphics.svg", encoding: .utf8)
    #expect(svg.contains("<svg"))
    #expect(svg.contains("snip"))

    #expect(try await scheduler.run() == false)
    for job in jobs.dropLast() {
      #expect(job.isDone && job.error == nil, "\(job)")
    }
    let last = try #require(jobs.last)
    #expect(last.error is CommandError)
    #expect(String(describing: last.error ?? CancellationError()).contains("foobar"))
    let text = output.stdoutText
    #expect(text.contains("named named.sh"))
    #expect(text.contains("4 args"))
    #expect(!text.contains("never"))
  }
}
