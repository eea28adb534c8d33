import Foundation
import Testing

@testable import SshJobs

@Suite("Host key notices reach every formatter's stderr")
struct HostKeyNoticeTests {
  let origin = OutputOrigin(hostname: "127.0.0.2", username: "root")

  @Test("a recorded key is told as OpenSSH tells it, without the template, even when not verbose")
  func recorded() {
    let event = FormatterEvent.hostKeyRecorded(host: "[127.0.0.2]:2222", keyType: "ED25519", file: "/k")
    for makeFormatter in [
      { HostFormatter(sink: $0) }, { RawFormatter(sink: $0) }, { TimeHostFormatter(sink: $0) },
      { TemplateFormatter(format: "<{host}> {linenl}", sink: $0) },
    ] as [(BufferSink) -> TemplateFormatter] {
      let sink = BufferSink()
      let formatter = makeFormatter(sink)
      formatter.register(origin)
      formatter.event(event, from: origin)
      #expect(sink.stderrText == "Permanently added '[127.0.0.2]:2222' (ED25519) to the list of known hosts.\n")
      #expect(sink.stdoutText.isEmpty)
    }
  }

  @Test("a changed key let through is a loud warning naming the host, the file and line, and the option")
  func changed() {
    let sink = BufferSink()
    let formatter = HostFormatter(sink: sink)
    formatter.event(
      .hostKeyChangedUnchecked(host: "[127.0.0.2]:2222", keyType: "ED25519", file: "/kh", line: 3), from: origin)
    let text = sink.stderrText
    #expect(text.hasPrefix("WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for [127.0.0.2]:2222"))
    #expect(text.contains("/kh line 3") && text.contains("ED25519"))
    #expect(text.contains("(checking disabled by --no-host-key-check)"))
    #expect(text.hasSuffix("\n") && text.split(separator: "\n").count == 1)
  }

  @Test("an SshNode forwards its connection's host key notice to its formatter, once per host")
  func forwardedByNodes() async throws {
    let testbed = try await Fleet.shared()
    let knownHosts = try Fleet.temporaryDirectory() + "/known_hosts"
    let sink = BufferSink()
    let formatter = HostFormatter(sink: sink)
    let host = testbed.hosts[9]
    for _ in 0..<2 {
      let node = SshNode(
        hostname: host.address, username: testbed.username, port: Int(host.port), keys: [testbed.userKeyPath],
        formatter: formatter, hostKeyPolicy: .acceptNew, connectTimeout: .seconds(60), knownHostsPath: knownHosts,
        useAgent: false)
      #expect(try await Fleet.run(SshJob(node: node, commands: [Run("true")])))
      await node.close()
    }
    let lines = sink.stderrText.split(separator: "\n").filter { $0.contains("Permanently added") }
    #expect(lines == ["Permanently added '[\(host.address)]:\(host.port)' (ED25519) to the list of known hosts."])
  }
}
