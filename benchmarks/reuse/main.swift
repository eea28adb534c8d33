// Benchmark driver for our side (issue 6), on a running testbed (`aptestbed up N --dir DIR`):
//
//   reuse-bench --testbed DIR reuse seq       # one SshJob of 100 `true` on the first host
//   reuse-bench --testbed DIR reuse 10x10     # 10 SshJobs x 10 `true` on one SshNode (channels)
//   reuse-bench --testbed DIR fanout N CMD    # one SshJob per host on the first N hosts, host:line
//   reuse-bench --testbed DIR push N FILE REMOTE
//   reuse-bench --testbed DIR pull N REMOTE LOCALDIR   # into LOCALDIR/<address>/
//
// Everything goes through SshJobs (SshNode, SshJob, Run/Push/Pull, HostFormatter on stdout) and
// one AsyncJobs Scheduler with no window, as the apssh CLI does. Exit 0 iff every job succeeded.
import AsyncJobs
import Foundation
import SshJobs
import Testbed

func fail(_ message: String) -> Never {
  FileHandle.standardError.write(Data("reuse-bench: \(message)\n".utf8))
  exit(2)
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 3, arguments[0] == "--testbed" else {
  fail("usage: reuse-bench --testbed DIR (reuse seq|10x10 | fanout N CMD | push N FILE REMOTE | pull N REMOTE DIR)")
}
let testbed: TestbedDescription
do { testbed = try TestbedDescription.load(directory: arguments[1]) } catch {
  fail("no testbed in \(arguments[1]): \(error)")
}
arguments.removeFirst(2)
let mode = arguments.removeFirst()

func node(_ host: TestbedHost) -> SshNode {
  SshNode(
    hostname: host.address, username: testbed.user, port: Int(host.port), keys: [testbed.userKeyPath],
    hostKeyPolicy: .strict, knownHostsPath: testbed.knownHostsPath, useAgent: false)
}

func hosts(_ count: String) -> [TestbedHost] {
  guard let n = Int(count) else { fail("bad host count \(count)") }
  return Array(testbed.hosts.prefix(n))
}

var jobs: [SshJob] = []
switch (mode, arguments.count) {
case ("reuse", 1):
  let shared = node(testbed.hosts[0])
  let shape = arguments[0]
  if shape == "seq" {
    jobs = [SshJob(node: shared, commands: (0..<100).map { _ in Run("true") })]
  } else if shape == "10x10" {
    jobs = (0..<10).map { _ in SshJob(node: shared, commands: (0..<10).map { _ in Run("true") }) }
  } else {
    fail("reuse seq|10x10")
  }
case ("fanout", 2...):
  let command = arguments.dropFirst().joined(separator: " ")
  jobs = hosts(arguments[0]).map { SshJob(node: node($0), command: command, critical: false) }
case ("push", 3):
  jobs = hosts(arguments[0]).map {
    SshJob(node: node($0), command: Push(localPaths: [arguments[1]], remotePath: arguments[2]), critical: false)
  }
case ("pull", 3):
  jobs = hosts(arguments[0]).map { host in
    let local = (arguments[2] as NSString).appendingPathComponent(host.address)
    try? FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
    return SshJob(node: node(host), command: Pull(remotePaths: [arguments[1]], localPath: local), critical: false)
  }
default:
  fail("unknown mode \(mode) \(arguments)")
}

let scheduler = Scheduler(jobs, critical: false)
let ok: Bool
do { ok = try await scheduler.run() } catch { fail("\(error)") }
if !ok {
  var report = scheduler.why() + "\n"
  for job in jobs { if let error = job.error { report += "\(job.label ?? "job"): \(error)\n" } }
  FileHandle.standardError.write(Data(report.utf8))
}
exit(ok ? 0 : 1)
