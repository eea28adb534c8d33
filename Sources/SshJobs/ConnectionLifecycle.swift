import AsyncJobs

/// The `SshNode`s of the `SshJob`s of `scheduler` (nested schedulers included) and their gateways,
/// each once, in order of first appearance.
public func sshNodes(in scheduler: Scheduler) -> [SshNode] {
  var seen = Set<ObjectIdentifier>()
  var nodes: [SshNode] = []
  for job in scheduler.allJobs() {
    var next = (job as? SshJob)?.sshNode
    while let node = next, seen.insert(ObjectIdentifier(node)).inserted {
      nodes.append(node)
      next = node.gateway
    }
  }
  return nodes
}

/// Closes the connection of every `SshNode` used by the jobs of `scheduler` (nested schedulers
/// included) and of their gateways: remotest hops first, nodes at one distance concurrently.
/// Connections kept by `keepConnection` are closed too. A node used again later reconnects.
public func closeConnections(in scheduler: Scheduler) async {
  let byDistance = Dictionary(grouping: sshNodes(in: scheduler), by: \.distance)
  for distance in byDistance.keys.sorted(by: >) {
    await withTaskGroup(of: Void.self) { group in
      for node in byDistance[distance] ?? [] {
        group.addTask { await node.close() }
      }
    }
  }
}
