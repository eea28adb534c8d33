import Foundation
import Subprocess

/// Graphviz output: nested schedulers are clusters; critical jobs have a red border, forever jobs a
/// dashed one, plain jobs rounded corners.
extension Scheduler {
  /// The graph in DOT format (ids as in `list()`).
  public func dot() -> String {
    "digraph asynciojobs" + dotBody(ids: listingIDs(), style: "")
  }

  /// Writes `dot()` to `path`.
  public func exportDot(to path: String) throws {
    try dot().write(toFile: path, atomically: true, encoding: .utf8)
  }

  /// Renders the graph with graphviz's `dot` into `path`, in `format` (`svg`, `png`, `pdf`, …;
  /// default: the extension of `path`, else `svg`). Waits for `dot` without blocking a thread.
  /// - Throws: `GraphicExportError` if `dot` cannot be run or fails.
  public func exportGraphic(to path: String, format: String? = nil) async throws {
    let fileExtension = (path as NSString).pathExtension
    let format = format ?? (fileExtension.isEmpty ? "svg" : fileExtension)
    let source = path + ".dot"
    try exportDot(to: source)
    defer { try? FileManager.default.removeItem(atPath: source) }
    // Cancelled, swift-subprocess kills `dot` before `run` returns (its teardown ends with SIGKILL).
    let status: TerminationStatus
    do {
      status = try await Subprocess.run(
        .name("dot"), arguments: ["-T\(format)", "-o", path, source], input: .none, output: .discarded,
        error: .discarded
      ).terminationStatus
    } catch {
      throw GraphicExportError(message: "cannot run graphviz dot (is graphviz installed?): \(error)")
    }
    try Task.checkCancellation()
    guard status.isSuccess else {
      throw GraphicExportError(message: "dot -T\(format) -o \(path) failed with status \(status)")
    }
  }

  /// The `[key="value",…]` attributes of a job or of a nested scheduler's cluster.
  func dotStyle(of job: AbstractJob, id: String) -> String {
    var styles: [String] = []
    if !(job is Scheduler) { styles.append("rounded") }
    if job.forever { styles.append("dashed") }
    var pairs: [(String, String)] = [("style", styles.joined(separator: ","))]
    let label = job.graphLabel ?? "\(id): \(job.effectiveLabel)"
    if label != "NOLABEL" { pairs.append(("label", label)) }
    pairs.append(("shape", "box"))
    if job.critical {
      pairs += [("color", "red"), ("penwidth", "2")]
    } else {
      pairs.append(("penwidth", "0.5"))
    }
    return pairs.map { key, value in
      "\(key)=\"\(value.replacingOccurrences(of: "\"", with: "\\\""))\""
    }.joined(separator: ",")
  }

  private func dotBody(ids: [ObjectIdentifier: String], style: String) -> String {
    func id(_ job: AbstractJob) -> String { ids[ObjectIdentifier(job)] ?? "??" }
    var text = "{\ncompound=true;\ngraph [\(style)];\n"
    for job in orderedMembers() {
      let jobID = id(job)
      if let nested = job as? Scheduler {
        text += "subgraph cluster_\(jobID)" + nested.dotBody(ids: ids, style: dotStyle(of: job, id: jobID))
        guard let entry = nested.middleEntry() else { continue }
        for requirement in job.requirements {
          if let source = requirement as? Scheduler {
            guard let exit = source.middleExit() else { continue }
            text += "\(id(exit)) -> \(id(entry)) [lhead=cluster_\(jobID) ltail=cluster_\(id(source))];\n"
          } else {
            text += "\(id(requirement)) -> \(id(entry)) [lhead=cluster_\(jobID)];\n"
          }
        }
      } else {
        text += "\(jobID) [\(dotStyle(of: job, id: jobID))]\n"
        for requirement in job.requirements {
          if let source = requirement as? Scheduler {
            guard let exit = source.middleExit() else { continue }
            text += "\(id(exit)) -> \(jobID) [ltail=cluster_\(id(source))];\n"
          } else {
            text += "\(id(requirement)) -> \(jobID);\n"
          }
        }
      }
    }
    return text + "}\n"
  }

  /// The middle entry job, recursing into nested schedulers; nil for an empty scheduler.
  func middleEntry() -> AbstractJob? {
    let entries = entryJobs
    guard !entries.isEmpty else { return nil }
    let pick = entries[(entries.count - 1) / 2]
    return (pick as? Scheduler)?.middleEntry() ?? (pick is Scheduler ? nil : pick)
  }

  /// The middle exit job (forever jobs only if there is no other), recursing into nested schedulers.
  func middleExit() -> AbstractJob? {
    var exits = exitJobs()
    if exits.isEmpty { exits = exitJobs(discardForever: false) }
    guard !exits.isEmpty else { return nil }
    let pick = exits[(exits.count - 1) / 2]
    return (pick as? Scheduler)?.middleExit() ?? (pick is Scheduler ? nil : pick)
  }
}

/// `Scheduler.exportGraphic(to:format:)` could not produce the file.
public struct GraphicExportError: Error, CustomStringConvertible {
  /// What went wrong, including graphviz's own message.
  public let message: String
  /// Same as `message`.
  public var description: String { message }
}
