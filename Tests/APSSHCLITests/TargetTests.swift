import APSSHCLI
import Foundation
import Testing

/// Target grammar, ranges, groups, inventories (YAML and INI), files, exclusions, -n and -L.
@Suite struct TargetTests {
  @Test func rangesWithUserAndPort() async throws {
    let fleet = try await Fleet.shared()
    let port = fleet.testbed.port
    let result = await apssh(fleet.auth + ["-r", "-t", "\(fleet.testbed.username)@127.0.0.[2-4]:\(port)", "echo", "r"])
    #expect(result.code == 0, "\(result.stderr)")
    #expect(result.stdout == "r\nr\nr\n")
    let listed = await apssh(["-L", "-l", "bob", "-t", "node[1-2,7] 10.0.0.[1:2]"])
    #expect(listed.stdout == "bob@node1\nbob@node2\nbob@node7\nbob@10.0.0.1\nbob@10.0.0.2\n")
  }

  @Test func groupsFromYAMLInventory() async throws {
    let fleet = try await Fleet.shared()
    let result = await apssh([
      "--known-hosts", fleet.testbed.knownHostsPath, "-I", fleet.testbed.inventoryPath, "-t", "@testbed", "-x",
      "127.0.0.[4-17]", "whoami",
    ])
    #expect(result.code == 0, "\(result.stderr)")
    #expect(result.stdout.contains("127.0.0.2:\(fleet.testbed.username)"))
    #expect(result.stdout.contains("127.0.0.3:\(fleet.testbed.username)"))
    #expect(result.stdout.split(separator: "\n").count == 2)
  }

  @Test func inventoryFileAsTarget() async throws {
    let fleet = try await Fleet.shared()
    let result = await apssh(["--known-hosts", fleet.testbed.knownHostsPath, "-t", fleet.testbed.inventoryPath, "-n"])
    #expect(result.code == 0)
    #expect(result.stdout.contains("\(fleet.testbed.hosts.count) hostnames selected"))
    #expect(result.stdout.contains("\(fleet.testbed.username)@127.0.0.2:\(fleet.testbed.port)"))
  }

  @Test func iniInventory() async throws {
    let fleet = try await Fleet.shared()
    let path = temporaryDirectory() + "/hosts.ini"
    try write(
      """
      [web]
      one ansible_host=\(fleet.address(8))
      two ansible_host=\(fleet.address(9))

      [web:vars]
      ansible_user=\(fleet.testbed.username)
      ansible_port=\(fleet.testbed.port)
      ansible_ssh_private_key_file=\(fleet.testbed.userKeyPath)

      """, to: path)
    let result = await apssh([
      "--known-hosts", fleet.testbed.knownHostsPath, "-I", path, "-t", "@web", "-x", "two", "-r", "echo", "ini",
    ])
    #expect(result.code == 0, "\(result.stderr)")
    #expect(result.stdout == "ini\n")
  }

  @Test func hostsFileWithComments() async throws {
    let fleet = try await Fleet.shared()
    let path = temporaryDirectory() + "/targets"
    try write("# my hosts\n\(fleet.target(10))   # first\n\n\(fleet.target(11))\n", to: path)
    let result = await apssh(fleet.auth + ["-t", path, "-L"])
    #expect(result.stdout == "\(fleet.target(10))\n\(fleet.target(11))\n")
  }

  @Test func dryRunListsExcludes() async throws {
    let result = await apssh(["-n", "-l", "me", "-t", "a,b c", "-x", "b"])
    #expect(result.code == 0)
    #expect(
      result.stdout == "========== 1 excludes found:\nb\n========== 2 hostnames selected (1 excluded):\nme@a\nme@c\n")
  }

  @Test func gatewaysInListing() async throws {
    let result = await apssh([
      "-L", "-l", "me", "-g", "gw@jump:2222", "-t", "None->127.0.0.1 127.0.0.3->127.0.0.2 x:23",
    ])
    #expect(result.stdout == "me@127.0.0.1\nme@127.0.0.3->me@127.0.0.2\ngw@jump:2222->me@x:23\n", "\(result.stdout)")
  }

  @Test func gatewayReallyHops() async throws {
    let fleet = try await Fleet.shared()
    let result = await apssh(
      fleet.auth + ["-r", "-g", fleet.target(12), "-t", fleet.target(13), "echo", "via gateway"])
    #expect(result.code == 0, "\(result.stderr)")
    #expect(result.stdout == "via gateway\n")
  }
}

/// Bad inputs: every one is a message and exit 2, never a crash.
@Suite struct BadInputTests {
  @Test func unknownOption() async {
    let result = await apssh(["--bogus", "-t", "h", "true"])
    #expect(result.code == 2)
    #expect(result.stderr.contains("Unknown option '--bogus'"))
  }

  @Test func missingInventoryFile() async {
    let result = await apssh(["-I", "/nonexistent/inventory.yaml", "-t", "@all", "true"])
    #expect(result.code == 2)
    #expect(result.stderr.contains("/nonexistent/inventory.yaml"))
  }

  @Test func badYAMLNamesItsLine() async throws {
    let path = temporaryDirectory() + "/bad.yaml"
    try write("all:\n  hosts:\n    a:\n   b: [\n", to: path)
    let result = await apssh(["-I", path, "-t", "@all", "true"])
    #expect(result.code == 2)
    #expect(result.stderr.contains("\(path):4"), "\(result.stderr)")
  }

  @Test func unknownGroupListsKnownOnes() async throws {
    let fleet = try await Fleet.shared()
    let result = await apssh(["-I", fleet.testbed.inventoryPath, "-t", "@nope", "true"])
    #expect(result.code == 2)
    #expect(result.stderr.contains("unknown group '@nope'"))
    #expect(result.stderr.contains("testbed"))
  }

  @Test func noCommandNoTarget() async {
    let noCommand = await apssh(["-t", "h"])
    #expect(noCommand.code == 2)
    #expect(noCommand.stderr.contains("You must provide a command"))
    let noTarget = await apssh(["-K", "true"])
    #expect(noTarget.code == 2)
    #expect(noTarget.stderr.contains("no target: name the hosts to run on with -t"))
  }

  @Test func markNeedsAnOutputDirectory() async {
    let result = await apssh(["-m", "-t", "h", "true"])
    #expect(result.code == 2)
    #expect(result.stderr.contains("--mark needs an output directory"))
  }

  @Test func badTargetAndRange() async {
    #expect(await apssh(["-t", "a@b@c", "true"]).code == 2)
    #expect(await apssh(["-t", "node[5-1]", "true"]).code == 2)
    #expect(await apssh(["-t", "host:99999", "true"]).code == 2)
  }

  @Test func versionAndHelp() async {
    let version = await apssh(["-V"])
    #expect(version.code == 0)
    #expect(version.stdout == "apssh version \(APSSHVersion.current)\n")
    let help = await apssh(["--help"])
    #expect(help.code == 0)
    #expect(help.stdout.contains("--time-colon-format"))
    #expect(await appush(["-V"]).stdout == "appush version \(APSSHVersion.current)\n")
    #expect(await appull(["-V"]).stdout == "appull version \(APSSHVersion.current)\n")
  }
}

/// argparse habits of the Python apssh kept: stuck values, long option prefixes, `-tc`.
@Suite struct ArgumentCompatibilityTests {
  @Test func stuckValuesAndPrefixes() async {
    #expect(await apssh(["-th1,h2", "-lu", "-L"]).stdout == "u@h1\nu@h2\n")
    #expect(await apssh(["--targ", "h", "--log=bob", "--list"]).stdout == "bob@h\n")
    let ambiguous = await apssh(["--d", "-t", "h", "true"])
    #expect(ambiguous.code == 2)
    #expect(await appush(["--rec", "-n", "-l", "u", "-t", "h", "a", "@:"]).stdout == "u@h\n")
  }

  @Test func commandWordsAreLeftAlone() async throws {
    let fleet = try await Fleet.shared()
    let result = await apssh(fleet.auth + ["-r"] + fleet.targets([10]) + ["echo", "-tc", "--raw"])
    #expect(result.code == 0, "\(result.stderr)")
    #expect(result.stdout == "-tc --raw\n")
  }
}
