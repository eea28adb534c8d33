import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A local fleet of real `sshd` "hosts" on loopback addresses, for tests, demos and benchmarks.
///
/// `Testbed.start(hosts: N)` serves N hosts on 127.0.0.2, 127.0.0.3, … (then 127.0.1.0, …), all on
/// one free port in 20000..<32000 (below the kernel's ephemeral range), with one sshd process per 16
/// addresses (sshd's limit; 1,000 hosts = 63 processes), run as `/usr/sbin/sshd -D -f CONF -E LOG`
/// in a session of its own. One generated ed25519 host key is shared by every host; one generated
/// ed25519 user key (plus an encrypted copy) is authorised. See `SshdConfig` for the settings.
///
/// The directory (a new `/tmp/apssh-testbed-XXXXXX` unless given) holds the keys, the sshd
/// configurations and logs (`sshdN.conf`, `sshdN.log`), and the files clients use:
/// `inventory.yaml`, `hosts`, `known_hosts`, `ssh_config` (`ssh -F DIR/ssh_config 127.0.0.2 hostname`
/// works) and `testbed.json` (`TestbedDescription`).
///
/// As root the hosts are logged in to as the dedicated user `apsshtb` (see `TestbedUser`); the
/// directory is made readable by it, and must be searchable by others all the way up.
///
/// Lifetime: `stop()` stops every process started (SIGTERM to each sshd's process group and to the
/// sessions' processes, SIGKILL after 2 s) and removes a directory it created. Unless `persistent`,
/// each sshd is also watched by a tiny `/bin/sh` watchdog reading a socket from this process: when this
/// process dies (even by SIGKILL) the socket closes and the watchdog kills that sshd and its sessions
/// (and removes a created directory); and live testbeds are stopped by an `atexit` handler.
/// Persistent testbeds (`aptestbed up`) survive the process; `TestbedControl.down` stops them.
public final class Testbed: Sendable {
  /// The sshd binary (always run by absolute path, as sshd requires for re-exec).
  public static let sshdPath = "/usr/sbin/sshd"
  /// The ssh-keygen binary.
  public static let sshKeygenPath = "/usr/bin/ssh-keygen"
  /// The most hosts one testbed serves.
  public static let maximumHosts = 16_000
  /// The passphrase of `encryptedKeyPath`.
  public static let defaultKeyPassphrase = "apssh-testbed-passphrase"

  /// The hosts, in address order.
  public let hosts: [TestbedHost]
  /// The TCP port every host listens on.
  public let port: UInt16
  /// The login used on every host.
  public let user: TestbedUser
  /// The testbed directory (absolute).
  public let directory: String
  /// Whether the sshd processes outlive this process (no watchdog, no atexit clean-up).
  public let persistent: Bool
  /// Whether the directory was created by the testbed (and is removed by `stop()`).
  public let ownsDirectory: Bool
  /// The unencrypted private user key (`DIR/id_ed25519`).
  public let userKeyPath: String
  /// The same user key, encrypted with `keyPassphrase` (`DIR/id_ed25519_encrypted`).
  public let encryptedKeyPath: String
  /// The passphrase of `encryptedKeyPath`.
  public let keyPassphrase: String
  /// The private host key shared by all hosts (`DIR/ssh_host_ed25519_key`).
  public let hostKeyPath: String
  /// The host public key, `ssh-ed25519 AAAA…` (no comment).
  public let hostPublicKey: String
  /// `DIR/known_hosts`: `[address]:port ssh-ed25519 AAAA…` per host.
  public let knownHostsPath: String
  /// `DIR/inventory.yaml` (Ansible layout).
  public let inventoryPath: String
  /// `DIR/hosts`: `user@address:port` per line.
  public let hostsFilePath: String
  /// `DIR/ssh_config` for the OpenSSH client (and pssh, clush, pdsh).
  public let sshConfigPath: String
  /// `DIR/testbed.json`.
  public let descriptionPath: String
  /// `DIR/authorized_keys`.
  public let authorizedKeysPath: String

  struct SshdProcess: Sendable {
    var record: TestbedDescription.Sshd
    var watchdogPid: pid_t?
    var watchdogFD: Int32?
  }

  struct State: Sendable {
    var processes: [SshdProcess]
    var sockets: [Int32] = []
    var extraKnownHosts: [String] = []
    var nextAddressIndex: Int
    var extraCount = 0
    var stopped = false
  }

  let state: Mutex<State>

  /// The login name on every host.
  public var username: String { user.name }

  /// `user@address:port` for every host.
  public var targets: [String] { hosts.map { "\(user.name)@\($0.address):\($0.port)" } }

  /// Pids of the sshd processes running for this testbed (including fault hosts).
  public var sshdPids: [Int32] { state.withLock { $0.processes.map(\.record.pid) } }

  /// Whether `stop()` was called.
  public var isStopped: Bool { state.withLock { $0.stopped } }

  /// What `testbed.json` holds.
  public var testbedDescription: TestbedDescription {
    description(processes: state.withLock { $0.processes })
  }

  /// Writes `testbed.json` under the state's lock, so that of two writes made as fault hosts start
  /// at once, the one that lands last lists every process.
  func saveDescription() throws {
    try state.withLock { state in try description(processes: state.processes).save() }
  }

  private func description(processes: [SshdProcess]) -> TestbedDescription {
    TestbedDescription(
      directory: directory, port: port, user: user.name, hosts: hosts, userKeyPath: userKeyPath,
      encryptedKeyPath: encryptedKeyPath, keyPassphrase: keyPassphrase,
      knownHostsPath: knownHostsPath, sshConfigPath: sshConfigPath, inventoryPath: inventoryPath,
      hostsFilePath: hostsFilePath, sshd: processes.map(\.record), persistent: persistent,
      ownerPid: getpid())
  }

  private init(
    hosts: [TestbedHost], port: UInt16, user: TestbedUser, directory: String, persistent: Bool,
    ownsDirectory: Bool, hostPublicKey: String, processes: [SshdProcess]
  ) {
    self.hosts = hosts
    self.port = port
    self.user = user
    self.directory = directory
    self.persistent = persistent
    self.ownsDirectory = ownsDirectory
    self.hostPublicKey = hostPublicKey
    let paths = Paths(directory)
    userKeyPath = paths.userKey
    encryptedKeyPath = paths.encryptedKey
    keyPassphrase = Self.defaultKeyPassphrase
    hostKeyPath = paths.hostKey
    knownHostsPath = paths.file("known_hosts")
    inventoryPath = paths.file("inventory.yaml")
    hostsFilePath = paths.file("hosts")
    sshConfigPath = paths.file("ssh_config")
    descriptionPath = paths.file(TestbedDescription.fileName)
    authorizedKeysPath = paths.authorizedKeys
    state = Mutex(State(processes: processes, nextAddressIndex: hosts.count))
  }

  // MARK: - Start

  /// Starts `hosts` hosts and returns when every address listens.
  ///
  /// - Parameters:
  ///   - hosts: number of hosts, 1...`maximumHosts`.
  ///   - directory: where to put keys, configurations and generated files; created if missing;
  ///     existing testbed files in it are replaced. Default: a new `/tmp/apssh-testbed-XXXXXX`
  ///     (`$TMPDIR` instead of /tmp when not root), removed by `stop()`.
  ///   - persistent: detach the sshd processes (no watchdog, no atexit clean-up), for
  ///     `aptestbed up`.
  public static func start(hosts count: Int, directory: String? = nil, persistent: Bool = false)
    async throws -> Testbed
  {
    guard (1...maximumHosts).contains(count) else { throw TestbedError.invalidHostCount(count) }
    let user = try await TestbedUser.resolve()
    let (directory, owns) = try prepareDirectory(directory)
    do {
      let paths = Paths(directory)
      let hostPublicKey = try await generateKeys(paths)
      let userPublicKey = try keyLine(FileIO.read(paths.userKey + ".pub") ?? "")
      try FileIO.write(userPublicKey + "\n", to: paths.authorizedKeys, mode: 0o644)
      if TestbedUser.runningAsRoot { mkdir("/run/sshd", 0o755) }

      let addresses = (0..<count).map(TestbedHost.address(index:))
      for _ in 0..<8 {
        let port = try choosePort(addresses: addresses)
        let hosts = addresses.enumerated().map { index, address in
          TestbedHost(
            address: address, port: port, name: "host\(index + 1)",
            sshdIndex: index / SshdConfig.maximumAddresses)
        }
        let processes: [SshdProcess]
        do {
          processes = try await launchHosts(
            hosts, port: port, user: user, paths: paths, persistent: persistent, owns: owns)
        } catch is PortInUse {
          continue
        }
        let testbed = Testbed(
          hosts: hosts, port: port, user: user, directory: directory, persistent: persistent,
          ownsDirectory: owns, hostPublicKey: hostPublicKey, processes: processes)
        do {
          try testbed.writeClientFiles()
        } catch {
          await testbed.stop()
          throw error
        }
        if !persistent { LiveTestbeds.add(testbed) }
        return testbed
      }
      throw TestbedError.noFreePort
    } catch {
      if owns { FileIO.remove(directory) }
      throw error
    }
  }

  /// Thrown inside `start` when another process holds the chosen port on some address.
  struct PortInUse: Error {}

  /// File names inside a testbed directory.
  struct Paths: Sendable {
    var directory: String
    init(_ directory: String) { self.directory = directory }
    func file(_ name: String) -> String { directory + "/" + name }
    var hostKey: String { file("ssh_host_ed25519_key") }
    var userKey: String { file("id_ed25519") }
    var encryptedKey: String { file("id_ed25519_encrypted") }
    var authorizedKeys: String { file("authorized_keys") }
  }

  /// Creates (or validates) the directory; returns its absolute path and whether we created it.
  static func prepareDirectory(_ requested: String?) throws -> (String, Bool) {
    let root = TestbedUser.runningAsRoot
    if let requested {
      var path = expandingTilde(requested)
      if !path.hasPrefix("/") { path = FileManager.default.currentDirectoryPath + "/" + path }
      path = (path as NSString).standardizingPath
      var before = stat()
      let existed = lstat(path, &before) == 0
      if existed && before.st_mode & S_IFMT == S_IFREG {
        throw TestbedError.unsafeDirectory("\(path) is a file, not a directory; use another --dir")
      }
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
      try checkPrivate(path, checkMode: existed)
      // A new directory gets 755 whatever the umask; as root an existing one must be searchable.
      if root || !existed { chmod(path, 0o755) }
      if root { try checkSearchable(path) }
      return (path, false)
    }
    var base = "/tmp"
    if !root, let tmp = ProcessInfo.processInfo.environment["TMPDIR"], !tmp.isEmpty { base = tmp }
    var template = Array("\(base)/apssh-testbed-XXXXXX".utf8CString)
    guard mkdtemp(&template) != nil else { throw TestbedError.system(call: "mkdtemp", errno: errno) }
    let path = Subprocess.string(template)
    if root {
      chmod(path, 0o755)
      try checkSearchable(path)
    }
    return (path, true)
  }

  /// The testbed directory holds `authorized_keys`: whoever can replace it can log in to the
  /// testbed's hosts. It must be a real directory (not a symbolic link) owned by the caller and,
  /// when `checkMode` (a directory that was there before), not writable by group or others.
  static func checkPrivate(_ path: String, checkMode: Bool) throws {
    var info = stat()
    guard lstat(path, &info) == 0 else { throw TestbedError.system(call: "lstat \(path)", errno: errno) }
    let fix = "use a directory of your own (--dir), e.g. a new one"
    switch info.st_mode & S_IFMT {
    case S_IFDIR: break
    case S_IFLNK:
      throw TestbedError.unsafeDirectory("\(path) is a symbolic link: give the directory itself, or \(fix)")
    default:
      throw TestbedError.unsafeDirectory("\(path) is not a directory; \(fix)")
    }
    let me = geteuid()
    guard info.st_uid == me else {
      throw TestbedError.unsafeDirectory(
        "\(path) belongs to \(userName(info.st_uid)), not to \(userName(me)): its owner could replace "
          + "authorized_keys there and log in to the testbed's hosts; \(fix)")
    }
    let mode = info.st_mode & 0o7777
    if checkMode && mode & 0o022 != 0 {
      throw TestbedError.unsafeDirectory(
        "\(path) is writable by its group or by others (mode \(String(mode, radix: 8))): they could replace "
          + "authorized_keys there and log in to the testbed's hosts; chmod go-w \(path), or \(fix)")
    }
  }

  /// `name (uid N)`, or `uid N` without a passwd entry.
  static func userName(_ uid: uid_t) -> String {
    guard let entry = getpwuid(uid) else { return "uid \(uid)" }
    return "\(String(cString: entry.pointee.pw_name)) (uid \(uid))"
  }

  /// As root, sshd reads authorized_keys as the testbed login: every ancestor must be searchable.
  static func checkSearchable(_ path: String) throws {
    var prefix = ""
    for component in path.split(separator: "/") {
      prefix += "/" + component
      var info = stat()
      guard stat(prefix, &info) == 0 else { continue }
      if info.st_mode & S_IXOTH == 0 {
        throw TestbedError.directoryNotAccessible(
          "as root the testbed logs in as \(TestbedUser.dedicatedName), which must read "
            + "\(path)/authorized_keys, but \(prefix) is not searchable by others; "
            + "use a directory under /tmp")
      }
    }
  }

  /// Generates the host key and the user key (plus its encrypted copy); returns the host public key.
  static func generateKeys(_ paths: Paths) async throws -> String {
    for path in [paths.hostKey, paths.userKey, paths.encryptedKey] {
      unlink(path)
      unlink(path + ".pub")
    }
    async let hostKey = Subprocess.check(
      sshKeygenPath,
      ["-q", "-t", "ed25519", "-N", "", "-C", "apssh-testbed-host", "-f", paths.hostKey])
    try await Subprocess.check(
      sshKeygenPath, ["-q", "-t", "ed25519", "-N", "", "-C", "apssh-testbed-user", "-f", paths.userKey])
    try FileManager.default.copyItem(atPath: paths.userKey, toPath: paths.encryptedKey)
    try FileManager.default.copyItem(atPath: paths.userKey + ".pub", toPath: paths.encryptedKey + ".pub")
    chmod(paths.encryptedKey, 0o600)
    try await Subprocess.check(
      sshKeygenPath, ["-q", "-p", "-P", "", "-N", defaultKeyPassphrase, "-f", paths.encryptedKey])
    _ = try await hostKey
    return try keyLine(FileIO.read(paths.hostKey + ".pub") ?? "")
  }

  /// `ssh-ed25519 AAAA…` from a .pub file's content (drops the comment).
  static func keyLine(_ publicKeyFile: String) throws -> String {
    let fields = publicKeyFile.split(whereSeparator: \.isWhitespace)
    guard fields.count >= 2 else {
      throw TestbedError.commandFailed(command: "ssh-keygen", code: 0, output: "no public key")
    }
    return "\(fields[0]) \(fields[1])"
  }

  /// A random port in 20000..<32000 that every address can bind.
  static func choosePort(addresses: [String]) throws -> UInt16 {
    for _ in 0..<50 {
      let port = UInt16.random(in: 20000..<32000)
      if LoopbackSocket.isFree(port: port, addresses: addresses) { return port }
    }
    throw TestbedError.noFreePort
  }

  /// Starts one sshd per 16 hosts and waits until they all listen.
  static func launchHosts(
    _ hosts: [TestbedHost], port: UInt16, user: TestbedUser, paths: Paths, persistent: Bool,
    owns: Bool
  ) async throws -> [SshdProcess] {
    await SshdConfig.detectFeatures()
    var processes: [SshdProcess] = []
    do {
      for (index, group) in Dictionary(grouping: hosts, by: \.sshdIndex).sorted(by: { $0.key < $1.key }) {
        let process = try await launchSshd(
          name: "sshd\(index)", addresses: group.map(\.address), port: port, hostKey: paths.hostKey,
          user: user, paths: paths, role: "hosts", watchdog: !persistent,
          removeOnParentDeath: owns && index == 0 ? paths.directory : nil)
        processes.append(process)
      }
      try await waitUntilListening(processes, port: port)
      return processes
    } catch {
      await terminate(processes)
      throw error
    }
  }

  /// Writes the configuration of one sshd and starts it (in its own session), with a watchdog
  /// unless persistent.
  static func launchSshd(
    name: String, addresses: [String], port: UInt16, hostKey: String, user: TestbedUser,
    paths: Paths, role: String, watchdog: Bool, removeOnParentDeath: String? = nil
  ) async throws -> SshdProcess {
    let configPath = paths.file("\(name).conf")
    let logPath = paths.file("\(name).log")
    let config = SshdConfig(
      port: port, addresses: addresses, hostKeyPath: hostKey,
      authorizedKeysPath: paths.authorizedKeys, pidFilePath: paths.file("\(name).pid"),
      user: user.name)
    try FileIO.write(config.text, to: configPath)
    unlink(logPath)
    let pid = try Subprocess.spawn(
      sshdPath, ["-D", "-f", configPath, "-E", logPath], newSession: true, outputPath: logPath)
    var process = SshdProcess(
      record: TestbedDescription.Sshd(
        pid: pid, configPath: configPath, logPath: logPath, addresses: addresses, role: role))
    if watchdog {
      do {
        (process.watchdogPid, process.watchdogFD) = try startWatchdog(
          sshd: pid, removing: removeOnParentDeath)
      } catch {
        ProcessTree.signal(group: pid, and: [], SIGKILL)
        _ = await Subprocess.wait(pid, timeout: .seconds(2))
        throw error
      }
    }
    return process
  }

  /// The watchdog: `/bin/sh` reading a socket whose only other end is this process. A line means
  /// "stop() handled it, exit"; end of file means this process died: kill the sshd's process group
  /// and its sessions' processes (TERM, then KILL), and remove the directory if asked.
  static let watchdogScript = """
    if read line; then exit 0; fi
    s=$1; d=$2
    tree() { for c in $(pgrep -P "$1" 2>/dev/null); do echo "$c"; tree "$c"; done; }
    all=$(tree "$s")
    kill -TERM -"$s" "$s" $all 2>/dev/null
    i=0
    while kill -0 "$s" 2>/dev/null && [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done
    kill -KILL -"$s" "$s" $all 2>/dev/null
    if [ -n "$d" ]; then rm -rf "$d"; fi
    """

  static func startWatchdog(sshd pid: pid_t, removing directory: String?) throws -> (pid_t, Int32) {
    // A socket pair rather than a pipe: it can be created close-on-exec atomically.
    var fds: [Int32] = [0, 0]
    #if canImport(Glibc)
      let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    #else
      let type = SOCK_STREAM
    #endif
    guard socketpair(AF_UNIX, type, 0, &fds) == 0 else {
      throw TestbedError.system(call: "socketpair", errno: errno)
    }
    defer { close(fds[0]) }
    do {
      let watchdog = try Subprocess.spawn(
        "/bin/sh", ["-c", watchdogScript, "apssh-testbed-watchdog", "\(pid)", directory ?? ""],
        newSession: true, stdinFD: fds[0])
      return (watchdog, fds[1])
    } catch {
      close(fds[1])
      throw error
    }
  }

  /// Waits (10 s at most) until each sshd owns a listening socket on every one of its addresses
  /// (read from /proc/net/tcp and /proc/PID/fd; such a socket accepts TCP connections, and
  /// probing by connecting would make sshd fork and log for every address). Throws `PortInUse`
  /// when sshd reports that an address was taken, `sshdDied` with the log when it exits.
  static func waitUntilListening(
    _ processes: [SshdProcess], port: UInt16, timeout: Duration = .seconds(10)
  ) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    var pending = Array(processes.indices)
    while true {
      let listeners = ConnectionCounter.listeners(port: port)
      var stillPending: [Int] = []
      for index in pending {
        let record = processes[index].record
        let log = FileIO.read(record.logPath) ?? ""
        if log.contains("Bind to port") || log.contains("Address already in use") {
          throw PortInUse()
        }
        if Subprocess.reapIfExited(record.pid) != nil {
          throw TestbedError.sshdDied(logPath: record.logPath, log: FileIO.tail(record.logPath))
        }
        let inodes = ProcessTree.socketInodes(of: record.pid)
        let ready = record.addresses.allSatisfy { address in
          listeners[address].map { inodes.contains($0) } ?? false
        }
        if !ready { stillPending.append(index) }
      }
      pending = stillPending
      if pending.isEmpty { return }
      if clock.now >= deadline {
        let record = processes[pending[0]].record
        throw TestbedError.sshdNotReady(logPath: record.logPath, log: FileIO.tail(record.logPath))
      }
      try await Task.sleep(for: .milliseconds(10))
    }
  }

  /// Writes known_hosts, hosts, inventory.yaml, ssh_config and testbed.json.
  func writeClientFiles() throws {
    try writeKnownHosts()
    try FileIO.write(TestbedFiles.targets(hosts: hosts, user: user.name), to: hostsFilePath)
    try FileIO.write(
      TestbedFiles.inventory(hosts: hosts, user: user.name, port: port, keyPath: userKeyPath),
      to: inventoryPath)
    try FileIO.write(
      TestbedFiles.sshConfig(
        user: user.name, port: port, keyPath: userKeyPath, knownHostsPath: knownHostsPath),
      to: sshConfigPath)
    try saveDescription()
  }

  /// Writes known_hosts: every host, then the fault hosts' lines. Under the state's lock: two
  /// fault hosts started at once each write the file, and the write with fewer lines must not
  /// land last (a fault host's line was lost that way, and ssh refused its unknown key).
  func writeKnownHosts() throws {
    let lines = hosts.map {
      TestbedFiles.knownHostsLine(address: $0.address, port: port, publicKey: hostPublicKey)
    }
    try state.withLock { state in
      try FileIO.write((lines + state.extraKnownHosts).joined(), to: knownHostsPath)
    }
  }

  // MARK: - Stop

  /// Stops every process the testbed started (sshd processes with their sessions, watchdogs),
  /// closes the fault sockets, and removes the directory if the testbed created it.
  /// Idempotent; returns when the processes are gone (at most about 4 s).
  public func stop() async {
    guard let (processes, sockets) = takeResources() else { return }
    for fd in sockets { close(fd) }
    await Self.terminate(processes)
    finishStop()
  }

  /// `stop()` for contexts that cannot await (process exit); blocks the calling thread.
  public func stopSynchronously() {
    guard let (processes, sockets) = takeResources() else { return }
    for fd in sockets { close(fd) }
    Self.signalForStop(processes)
    Self.reapSynchronously(processes)
    finishStop()
  }

  private func takeResources() -> ([SshdProcess], [Int32])? {
    state.withLock { state in
      if state.stopped { return nil }
      state.stopped = true
      defer {
        state.processes = []
        state.sockets = []
      }
      return (state.processes, state.sockets)
    }
  }

  private func finishStop() {
    if ownsDirectory { FileIO.remove(directory) }
    LiveTestbeds.remove(self)
  }

  /// SIGTERM to each sshd's group and every process below it; watchdogs are told to exit.
  /// Returns the descendants signalled.
  @discardableResult
  static func signalForStop(_ processes: [SshdProcess]) -> [pid_t] {
    let pids = processes.map(\.record.pid)
    let descendants = ProcessTree.descendants(of: pids)
    for process in processes {
      if let fd = process.watchdogFD {
        _ = "stop\n".withCString { write(fd, $0, 5) }
        close(fd)
      }
    }
    for pid in pids { ProcessTree.signal(group: pid, and: [], SIGTERM) }
    for pid in descendants { kill(pid, SIGTERM) }
    return descendants
  }

  /// Stops processes: SIGTERM, up to 2 s for them to exit, then SIGKILL; reaps them and the
  /// watchdogs. Polls without blocking a thread.
  static func terminate(_ processes: [SshdProcess]) async {
    guard !processes.isEmpty else { return }
    let descendants = signalForStop(processes)
    let clock = ContinuousClock()
    var deadline = clock.now + .seconds(2)
    var survivors: [pid_t] = []
    for process in processes {
      let remaining = max(deadline - clock.now, .milliseconds(1))
      if await Subprocess.wait(process.record.pid, timeout: remaining) == nil {
        survivors.append(process.record.pid)
      }
    }
    if !survivors.isEmpty {
      for pid in survivors { ProcessTree.signal(group: pid, and: [], SIGKILL) }
      for pid in descendants where ProcessTree.isAlive(pid) { kill(pid, SIGKILL) }
      deadline = clock.now + .seconds(2)
      for pid in survivors {
        _ = await Subprocess.wait(pid, timeout: max(deadline - clock.now, .milliseconds(1)))
      }
    }
    deadline = clock.now + .seconds(1)
    for watchdog in processes.compactMap(\.watchdogPid) {
      if await Subprocess.wait(watchdog, timeout: max(deadline - clock.now, .milliseconds(1))) == nil {
        kill(watchdog, SIGKILL)
        _ = await Subprocess.wait(watchdog, timeout: .seconds(1))
      }
    }
  }

  /// The blocking counterpart of the waiting part of `terminate`.
  static func reapSynchronously(_ processes: [SshdProcess]) {
    var survivors: [pid_t] = []
    for process in processes
    where Subprocess.waitSynchronously(process.record.pid, timeout: .seconds(2)) == nil {
      survivors.append(process.record.pid)
    }
    for pid in survivors {
      ProcessTree.signal(group: pid, and: [], SIGKILL)
      _ = Subprocess.waitSynchronously(pid, timeout: .seconds(2))
    }
    for watchdog in processes.compactMap(\.watchdogPid)
    where Subprocess.waitSynchronously(watchdog, timeout: .seconds(1)) == nil {
      kill(watchdog, SIGKILL)
      _ = Subprocess.waitSynchronously(watchdog, timeout: .seconds(1))
    }
  }

  // MARK: - Observation

  /// Number of TCP connections currently established to the testbed port, counted on the server
  /// side (ESTABLISHED sockets of /proc/net/tcp whose local port is `port`).
  public func establishedConnections() -> Int {
    ConnectionCounter.establishedConnections(localPort: port)
  }

  /// The contents of every sshd log of the testbed (for diagnosing a failing test).
  public func logs() -> String {
    state.withLock { $0.processes }.map {
      "== \($0.record.logPath)\n" + (FileIO.read($0.record.logPath) ?? "")
    }.joined(separator: "\n")
  }
}

/// The non-persistent testbeds of this process, stopped by an `atexit` handler.
enum LiveTestbeds {
  private static let testbeds = Mutex<[ObjectIdentifier: Testbed]>([:])
  private static let installAtExit: Void = {
    atexit { LiveTestbeds.stopAll() }
  }()

  static func add(_ testbed: Testbed) {
    _ = installAtExit
    testbeds.withLock { $0[ObjectIdentifier(testbed)] = testbed }
  }

  static func remove(_ testbed: Testbed) {
    _ = testbeds.withLock { $0.removeValue(forKey: ObjectIdentifier(testbed)) }
  }

  static func stopAll() {
    let all = testbeds.withLock { $0.values }
    for testbed in all { testbed.stopSynchronously() }
  }
}

/// `~` and `~/…` with `$HOME` first, as `SshClient.HomeDirectory` does for the tools (this module
/// depends on none of the others); Foundation's passwd-based expansion otherwise.
func expandingTilde(_ path: String) -> String {
  if path == "~" || path.hasPrefix("~/"), let home = ProcessInfo.processInfo.environment["HOME"], !home.isEmpty {
    return home + path.dropFirst()
  }
  return (path as NSString).expandingTildeInPath
}
