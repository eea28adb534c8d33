import APSSHCLI
import Foundation
import Testing

/// Input that cannot run as meant stops before any connection, with exit 2 and a message that
/// says what is wrong and where; names resolve the same way wherever they are written.
@Suite struct InputErrorTests {
  @Test func whyNoHostWasSelected() async throws {
    let dir = temporaryDirectory()
    let inventory = dir + "/inv.yaml"
    try write("all:\n  hosts:\n    h1:\n  children:\n    empty:\n", to: inventory)
    try FileManager.default.createDirectory(atPath: dir + "/nohosts", withIntermediateDirectories: true)
    try write("# nobody\n", to: dir + "/hosts.txt")

    let emptyGroup = await apssh(["-K", "-I", inventory, "-t", "@empty", "true"])
    #expect(emptyGroup.code == 2)
    #expect(emptyGroup.stderr.contains("-t @empty: the group has no hosts"), "\(emptyGroup.stderr)")
    let emptyDirectory = await apssh(["-K", "-t", dir + "/nohosts", "true"])
    #expect(emptyDirectory.code == 2)
    #expect(emptyDirectory.stderr.contains("the directory holds no host file"), "\(emptyDirectory.stderr)")
    let emptyFile = await appush(["-K", "-t", dir + "/hosts.txt", inventory, "@:/tmp/x"])
    #expect(emptyFile.code == 2)
    #expect(emptyFile.stderr.contains("the file names no host"), "\(emptyFile.stderr)")
    let allExcluded = await apssh(["-K", "-t", "h[1-3]", "-x", "h[1-3]", "true"])
    #expect(allExcluded.code == 2)
    #expect(allExcluded.stderr.contains("-x removed all 3 targets of -t"), "\(allExcluded.stderr)")
    let none = await apssh(["-K", "true"])
    #expect(none.stderr.contains("no target"))
  }

  @Test func requirementCycleNamesJobsAndLines() async throws {
    let path = temporaryDirectory() + "/cycle.yaml"
    try write(
      """
      nodes:
        - id: n
          hostname: 127.0.0.1
      jobs:
        - id: first
          node: n
          required: third
          commands: [{type: Run, command: "true"}]
        - id: second
          node: n
          required: first
          commands: [{type: Run, command: "true"}]
        - id: third
          node: n
          required: second
          commands: [{type: Run, command: "true"}]
      """, to: path)
    for extra in [[], ["-n"]] {
      let result = await apssh(["-K", "-S", path] + extra)
      #expect(result.code == 2)
      #expect(result.stderr.contains(path), "\(result.stderr)")
      #expect(result.stderr.contains("cycle"))
      #expect(result.stderr.contains("'first' (line 5)"), "\(result.stderr)")
      #expect(result.stderr.contains("'second' (line 9)"))
      #expect(result.stderr.contains("'third' (line 13)"))
    }
  }

  @Test func onlyForeverJobsNeedATimeLimit() async throws {
    let path = temporaryDirectory() + "/forever.yaml"
    let text = """
      nodes:
        - id: n
          hostname: 127.0.0.1
      jobs:
        - id: ticker
          node: n
          forever: true
          commands: [{type: Run, command: sleep 1000}]
      """
    try write(text, to: path)
    let result = await apssh(["-K", "-S", path])
    #expect(result.code == 2)
    #expect(result.stderr.contains("every job is 'forever' (the first at line 5)"), "\(result.stderr)")
    #expect(result.stderr.contains("timeout:"))
    try write("timeout: 1m\n" + text, to: path)
    let limited = await apssh(["-K", "-S", path, "-n"])
    #expect(limited.code == 0, "\(limited.stderr)")
  }

  @Test func optionsThatMakeNoSense() async throws {
    let graph = await apssh(["-t", "h", "--graph", "/tmp/g.svg", "true"])
    #expect(graph.code == 2)
    #expect(graph.stderr.contains("--graph"))
    for limit in ["0s", "0", "0ms"] {
      let zero = await apssh(["-t", "h", "--command-timeout", limit, "true"])
      #expect(zero.code == 2)
      #expect(zero.stderr.contains("--command-timeout"), "\(zero.stderr)")
      #expect(zero.stderr.contains("above 0"))
    }
    let path = temporaryDirectory() + "/zero.yaml"
    try write(
      "nodes:\n  - id: n\n    hostname: h\njobs:\n  - id: j\n    node: n\n    timeout: 0s\n    commands: [{type: Run, command: ls}]\n",
      to: path)
    let scenario = await apssh(["-K", "-S", path, "-n"])
    #expect(scenario.code == 2)
    #expect(scenario.stderr.contains(path + ":7"), "\(scenario.stderr)")
  }

  @Test func badInventoryValuesNameTheirLine() async throws {
    let path = temporaryDirectory() + "/inv.yaml"
    try write("all:\n  hosts:\n    web1:\n      ansible_host: \"\"\n", to: path)
    let empty = await apssh(["-I", path, "-t", "web1", "-L"])
    #expect(empty.code == 2)
    #expect(empty.stderr.contains(path + ":4"), "\(empty.stderr)")
    try write("all:\n  hosts:\n    web1:\n    web1:\n", to: path)
    let duplicate = await apssh(["-I", path, "-t", "web1", "-L"])
    #expect(duplicate.code == 2)
    #expect(duplicate.stderr.contains("written twice"), "\(duplicate.stderr)")
    let ini = temporaryDirectory() + "/hosts.ini"
    try write("[web]\r\nweb1 ansible_port=2222\r\n", to: ini)
    let crlf = await apssh(["-I", ini, "-t", "@web", "-L", "-l", "u"])
    #expect(crlf.code == 0, "\(crlf.stderr)")
    #expect(crlf.stdout == "u@web1:2222\n")
    let addresses = await apssh(["-L", "-t", "10.1.1.[250-256]"])
    #expect(addresses.code == 2)
    #expect(addresses.stderr.contains("10.1.1.256"))
  }

  /// The rerun-the-failed-hosts workflow: the hosts of `DIR/1failed` connect as the inventory
  /// says, and so do gateways named by their inventory name.
  @Test func markDirectoriesAndGatewaysUseTheInventory() async throws {
    let fleet = try await Fleet.shared()
    let inventory = fleet.testbed.inventoryPath
    let known = ["--known-hosts", fleet.testbed.knownHostsPath, "-c", "60"]
    let dir = temporaryDirectory("marks")
    let failing = fleet.address(9)
    let serverAddress = "echo $SSH_CONNECTION | cut -d' ' -f3"
    let first = await apssh(
      known + [
        "-I", inventory, "-t", [7, 8, 9].map(fleet.address).joined(separator: ","), "-o", dir, "--mark",
        "test \"$(\(serverAddress))\" != \(failing)",
      ])
    #expect(first.code == 1, "\(first.stderr)")
    let failed = try FileManager.default.contentsOfDirectory(atPath: dir + "/1failed")
    #expect(failed == [failing])
    let rerun = await apssh(known + ["-I", inventory, "-t", dir + "/1failed", "-r", serverAddress])
    #expect(rerun.code == 0, "\(rerun.stderr)")
    #expect(rerun.stdout == failing + "\n")
    let hop = await apssh(
      known + ["-I", inventory, "-g", fleet.address(10), "-t", fleet.address(11), "-r", "echo hop"])
    #expect(hop.code == 0, "\(hop.stderr)")
    #expect(hop.stdout == "hop\n")
    let arrow = await apssh(known + ["-I", inventory, "-t", "\(fleet.address(10))->\(fleet.address(11))", "-L"])
    #expect(arrow.stdout.contains("\(fleet.testbed.username)@\(fleet.address(10)):\(fleet.testbed.port)->"))
  }
}
