import AsyncJobs

/// The topology of `scheduler` in DOT: the local host (`0`), every `SshNode` of its jobs and their
/// gateways (numbered by increasing distance), an edge from each gateway (or the local host) to the
/// nodes behind it, and the number of jobs on each node.
///
/// ```
/// digraph apssh{
/// graph[];
/// 0 [style="rounded", label="Local Node", shape="box"]
/// 1 [style="rounded", label="user@gateway", shape="box"]
/// 2 [style="rounded", label="root@fit01\n2 jobs", shape="box"]
/// 0 -> 1
/// 1 -> 2
/// }
/// ```
public func topologyDot(of scheduler: Scheduler) -> String {
  var jobsPerNode: [ObjectIdentifier: Int] = [:]
  var localJobs = 0
  for job in scheduler.allJobs() {
    guard let job = job as? SshJob else { continue }
    if let node = job.sshNode {
      jobsPerNode[ObjectIdentifier(node), default: 0] += 1
    } else {
      localJobs += 1
    }
  }
  let nodes = sshNodes(in: scheduler).enumerated()
    .sorted { ($0.element.distance, $0.offset) < ($1.element.distance, $1.offset) }
    .map(\.element)
  var index: [ObjectIdentifier: Int] = [:]
  for (position, node) in nodes.enumerated() { index[ObjectIdentifier(node)] = position + 1 }

  func jobsText(_ count: Int) -> String {
    count == 0 ? "" : "\\n\(count) job\(count == 1 ? "" : "s")"
  }
  func escaped(_ text: String) -> String {
    text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
  }
  var lines = ["digraph apssh{", "graph[];"]
  lines.append("0 [style=\"rounded\", label=\"Local Node\(jobsText(localJobs))\", shape=\"box\"]")
  for node in nodes {
    let label = escaped(node.userHost) + jobsText(jobsPerNode[ObjectIdentifier(node)] ?? 0)
    lines.append("\(index[ObjectIdentifier(node)]!) [style=\"rounded\", label=\"\(label)\", shape=\"box\"]")
  }
  for node in nodes {
    let from = node.gateway.flatMap { index[ObjectIdentifier($0)] } ?? 0
    lines.append("\(from) -> \(index[ObjectIdentifier(node)]!)")
  }
  lines.append("}")
  return lines.joined(separator: "\n") + "\n"
}

extension String {
  fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
    split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
  }
}
