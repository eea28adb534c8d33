/// One testbed shared by every test of a test process.
extension Testbed {
  /// The number of hosts of the shared testbed when tests ask for fewer.
  public static let defaultSharedHosts = 16

  /// A testbed with at least `hosts` hosts (and at least `defaultSharedHosts`), started lazily
  /// once per process and shared by every caller; concurrent first calls wait for the same start.
  /// If a later caller needs more hosts than the shared testbed has, a bigger one is started and
  /// shared from then on (the smaller one keeps running for its users). Shared testbeds are
  /// stopped when the process exits (atexit) or dies (watchdogs). Do not `stop()` them in tests.
  public static func shared(hosts: Int = defaultSharedHosts) async throws -> Testbed {
    try await SharedTestbeds.instance.get(hosts: max(hosts, defaultSharedHosts))
  }
}

/// The registry behind `Testbed.shared(hosts:)`.
actor SharedTestbeds {
  static let instance = SharedTestbeds()

  /// Started or starting testbeds, by host count.
  private var entries: [(hosts: Int, task: Task<Testbed, any Error>)] = []

  func get(hosts: Int) async throws -> Testbed {
    if let index = entries.firstIndex(where: { $0.hosts >= hosts }) {
      let task = entries[index].task
      do {
        let testbed = try await task.value
        if !testbed.isStopped { return testbed }
      } catch {
        entries.removeAll { $0.task == task }
        throw error
      }
      entries.removeAll { $0.task == task }
    }
    let task = Task { try await Testbed.start(hosts: hosts) }
    entries.append((hosts, task))
    do {
      return try await task.value
    } catch {
      entries.removeAll { $0.task == task }
      throw error
    }
  }
}
