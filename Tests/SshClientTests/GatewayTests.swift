import Foundation
import SshClient
import Testbed
import Testing

@Suite("Gateways (jump hosts)")
struct GatewayTests {
  @Test("one hop: a command through a gateway")
  func oneHop() async throws {
    let testbed = try await TestHosts.testbed()
    let gateway = TestHosts.connection(testbed, host: 0)
    let target = SshConnection(configuration: TestHosts.configuration(testbed, host: 1), gateway: gateway)
    let result = try await target.run("echo through; echo $SSH_CONNECTION")
    #expect(result.stdoutText.hasPrefix("through\n"))
    // The target saw the connection come from the gateway's sshd (a loopback address).
    #expect(result.stdoutText.contains(testbed.hosts[1].address))
    await target.close()
    await gateway.close()
  }

  @Test("three hops, and one gateway carrying several tunnels at once")
  func threeHopsAndSharing() async throws {
    let testbed = try await TestHosts.testbed()
    let first = TestHosts.connection(testbed, host: 2)
    let second = SshConnection(configuration: TestHosts.configuration(testbed, host: 3), gateway: first)
    let third = SshConnection(configuration: TestHosts.configuration(testbed, host: 4), gateway: second)
    let result = try await third.run("echo deep")
    #expect(result.stdoutText == "deep\n")
    let siblings = (5..<9).map {
      SshConnection(configuration: TestHosts.configuration(testbed, host: $0), gateway: first)
    }
    let outputs = try await withThrowingTaskGroup(of: String.self) { group in
      for sibling in siblings { group.addTask { try await sibling.run("hostname -I 2>/dev/null; echo x").stdoutText } }
      var outputs: [String] = []
      for try await output in group { outputs.append(output) }
      return outputs
    }
    #expect(outputs.count == 4)
    #expect(await first.connectionCount == 1)
    for sibling in siblings { await sibling.close() }
    await third.close()
    await second.close()
    await first.close()
  }

  @Test("a large output through a gateway arrives whole")
  func bulkThroughGateway() async throws {
    let testbed = try await TestHosts.testbed()
    let gateway = TestHosts.connection(testbed, host: 9)
    let target = SshConnection(configuration: TestHosts.configuration(testbed, host: 10), gateway: gateway)
    let counter = ByteCounter()
    let status = try await target.execute("head -c 5000000 /dev/zero") { counter.add($0) }
    #expect(status == .code(0))
    #expect(counter.count(.stdout) == 5_000_000)
    await target.close()
    await gateway.close()
  }
}
