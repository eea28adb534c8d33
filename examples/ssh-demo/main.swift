// SshJobs demo: a local testbed of 4 sshd hosts, one job per host, a gather job that needs them
// all, a jobs window, the listing before and after the run.
//
//   swift run ssh-demo
//
// Needs /usr/sbin/sshd (Debian: openssh-server); works as root and as an ordinary user.
import Foundation
import SshJobs
import Testbed

/// Prints and flushes at once, so lines keep their order with the formatters' direct writes.
func say(_ text: String) {
  FileHandle.standardOutput.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
}

let testbed = try await Testbed.start(hosts: 4)
say("testbed: \(testbed.hosts.count) hosts on port \(testbed.port), user \(testbed.username)")

// One formatter for every node, so host names are padded to a common width.
let formatter = HostFormatter()
let nodes = testbed.hosts.map { host in
  SshNode(
    hostname: host.address, username: testbed.username, port: Int(host.port), keys: [testbed.userKeyPath],
    formatter: formatter, knownHostsPath: testbed.knownHostsPath, useAgent: false)
}

// A job per host: who am I, then a short pause (the window of 2 shows in the timing).
let perHost = nodes.map { node in
  SshJob(
    node: node, commands: [Run("echo hello from $(hostname) as $(whoami)"), Run("sleep 0.2")],
    label: "hello \(node.hostname)")
}
// A gather job on the first host, after all the others, then a local one.
let gather = SshJob(
  node: nodes[0], command: "echo all \(nodes.count) hosts answered", label: "gather", requires: perHost)
let local = SshJob(
  node: LocalNode(formatter: formatter), command: "echo done locally", label: "local", requires: [gather])

let scheduler = Scheduler(perHost + [gather, local], jobsWindow: 2, timeout: .seconds(60), label: "ssh-demo")
say(scheduler.list())
let succeeded = try await scheduler.run()
await closeConnections(in: scheduler)
say("---------- after the run: \(succeeded ? "success" : "failure")")
say(scheduler.list())
await testbed.stop()
if !succeeded { fatalError("ssh-demo failed:\n" + scheduler.debrief()) }
