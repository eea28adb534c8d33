/// A demo job that prints its messages (after an optional banner), then optionally sleeps.
public final class PrintJob: AbstractJob, @unchecked Sendable {
  /// The messages, printed separated by spaces.
  public let messages: [String]
  /// How long to sleep after printing.
  public let sleep: Duration?
  /// Printed before the messages, followed by a space.
  public let banner: String?

  /// Creates a critical, finite print job.
  public init(_ messages: String..., sleep: Duration? = nil, banner: String? = nil, label: String? = nil) {
    self.messages = messages
    self.sleep = sleep
    self.banner = banner
    super.init(label: label)
  }

  /// Prints, then sleeps if asked; returns nil.
  public override func run() async throws -> (any Sendable)? {
    let text = messages.joined(separator: " ")
    print(banner.map { "\($0) \(text)" } ?? text)
    if let sleep {
      print("Sleeping for \(sleep.secondsText)s")
      try await Task.sleep(for: sleep)
    }
    return nil
  }

  override var needsShutdown: Bool { false }

  /// `[+ sleep 0.05s] msg= hello...`.
  public override var details: String? {
    let head = sleep.map { "[+ sleep \($0.secondsText)s] " } ?? ""
    let tail = messages.count > 1 ? "..." : ""
    return head + "msg= " + (messages.first ?? "") + tail
  }
}
