import Foundation
import SshJobs

/// One host to run on: where to connect, as whom, and through which gateway.
///
/// The string grammar (`Target.parse(_:)`) is apssh's, plus ports and IPv6:
/// `host`, `user@host`, `host:port`, `user@host:port`, `[::1]:2222`, and gateway chains
/// `gwuser@gw->user@host` (also with `→`), nested to any depth: `a->b->c` reaches `c` through `b`,
/// itself reached through `a`. `None->host` means "go direct", overriding a default gateway (`-g`).
public struct Target: Sendable, Hashable, CustomStringConvertible {
  /// The host name or address to connect to.
  public var hostname: String
  /// The remote user; `nil` means the caller's default (`-l`, else the local user).
  public var user: String?
  /// The SSH port; `nil` means 22 or whatever the SSH layer defaults to.
  public var port: Int?
  /// A private key file for this host only; `nil` means the usual keys.
  public var keyPath: String?
  /// `true` for `None->host`: no gateway, even when a default gateway is given.
  public var forceDirect: Bool
  /// The inventory name of this host (`web1`, whose `ansible_host` is the `hostname`); the
  /// hostname itself for targets that come from no inventory.
  public var name: String
  /// Every other inventory variable of this host (effective values, group vars included).
  public var vars: [String: String]
  // A struct cannot hold itself: the gateway lives in a zero- or one-element array.
  private var gatewayStorage: [Target]

  /// The host to hop through first, if any.
  public var gateway: Target? {
    get { gatewayStorage.first }
    set { gatewayStorage = newValue.map { [$0] } ?? [] }
  }

  /// Creates a target; `name` defaults to `hostname`.
  public init(
    hostname: String, user: String? = nil, port: Int? = nil, keyPath: String? = nil,
    gateway: Target? = nil, forceDirect: Bool = false, name: String? = nil,
    vars: [String: String] = [:]
  ) {
    self.hostname = hostname
    self.user = user
    self.port = port
    self.keyPath = keyPath
    self.forceDirect = forceDirect
    self.name = name ?? hostname
    self.vars = vars
    self.gatewayStorage = gateway.map { [$0] } ?? []
  }

  /// `user@host:port` of this hop alone, leaving out what is not set; IPv6 addresses with a
  /// port are bracketed.
  public var endpoint: String {
    var text = ""
    if let user { text += user + "@" }
    if let port {
      text += hostname.contains(":") ? "[\(hostname)]" : hostname
      text += ":\(port)"
    } else {
      text += hostname
    }
    return text
  }

  /// The whole chain, `gw->user@host:port`, parseable back by `Target.parse(_:)`.
  public var description: String {
    if let gateway { return gateway.description + "->" + endpoint }
    return endpoint
  }

  /// Parses one target in the grammar above. Ranges are kept as they are in `hostname`: see
  /// `expandingRanges()`.
  ///
  /// - Throws: `InventoryError` `.badTarget` for an empty part or several `@`, `.badPort` for a
  ///   port that is not in 1...65535.
  public static func parse(_ text: String) throws -> Target {
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !trimmed.isEmpty else {
      throw InventoryError(.badTarget, "empty target")
    }
    if let arrow = lastArrow(in: trimmed) {
      let left = String(trimmed[..<arrow.lowerBound]).trimmingCharacters(in: .whitespaces)
      let right = String(trimmed[arrow.upperBound...])
      var final = try parseEndpoint(right, whole: trimmed)
      if left == "None" {
        final.forceDirect = true
      } else {
        guard !left.isEmpty else {
          throw InventoryError(.badTarget, "target '\(trimmed)' has nothing before '->'")
        }
        final.gateway = try parse(left)
      }
      return final
    }
    if trimmed == "None" {
      throw InventoryError(
        .badTarget, "'None' is only meaningful as a gateway, as in 'None->host' (go direct)")
    }
    return try parseEndpoint(trimmed, whole: trimmed)
  }

  /// The targets that the ranges in `hostname` stand for (`node[1-3]` → three targets that
  /// share everything else); `[self]` when there is no range.
  public func expandingRanges() throws -> [Target] {
    guard HostRange.isPattern(hostname) else { return [self] }
    return try HostRange.expand(hostname).map { expanded in
      var copy = self
      if copy.name == hostname { copy.name = expanded }
      copy.hostname = expanded
      return copy
    }
  }

  /// The same target with `user` and the users of its gateways filled with `user` where unset.
  public func withDefaultUser(_ user: String?) -> Target {
    guard let user else { return self }
    var copy = self
    if copy.user == nil { copy.user = user }
    copy.gateway = gateway?.withDefaultUser(user)
    return copy
  }

  private static func lastArrow(in text: String) -> Range<String.Index>? {
    let ascii = text.range(of: "->", options: .backwards)
    let unicode = text.range(of: "\u{2192}", options: .backwards)
    switch (ascii, unicode) {
    case let (.some(a), .some(u)): return a.lowerBound > u.lowerBound ? a : u
    case let (.some(a), nil): return a
    case let (nil, .some(u)): return u
    case (nil, nil): return nil
    }
  }

  private static func parseEndpoint(_ raw: String, whole: String) throws -> Target {
    let text = raw.trimmingCharacters(in: .whitespaces)
    guard !text.isEmpty else {
      throw InventoryError(.badTarget, "target '\(whole)' has an empty host")
    }
    if text.contains(where: \.isWhitespace) {
      throw InventoryError(.badTarget, "target '\(whole)' has a space inside a host name")
    }
    var user: String?
    var rest = Substring(text)
    let atCount = text.filter { $0 == "@" }.count
    if atCount > 1 {
      throw InventoryError(.badTarget, "target '\(whole)' has several '@'; write user@host")
    }
    if let at = text.firstIndex(of: "@") {
      user = String(text[..<at])
      rest = text[text.index(after: at)...]
      guard user?.isEmpty == false, !rest.isEmpty else {
        throw InventoryError(.badTarget, "target '\(whole)' should be user@host, both non-empty")
      }
    }
    let (host, portText) = try splitPort(rest, whole: whole)
    var port: Int?
    if let portText { port = try parsePort(portText, context: "target '\(whole)'") }
    guard !host.isEmpty else {
      throw InventoryError(.badTarget, "target '\(whole)' has an empty host")
    }
    return Target(hostname: host, user: user, port: port)
  }

  /// Splits `host:port`, `[v6]:port`, `[v6]`; a bare IPv6 address has no port.
  private static func splitPort(_ text: Substring, whole: String) throws -> (String, String?) {
    if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
      let inside = text[text.index(after: text.startIndex)..<close]
      if looksLikeIPv6(inside) {
        let after = text[text.index(after: close)...]
        if after.isEmpty { return (String(inside), nil) }
        guard after.hasPrefix(":") else {
          throw InventoryError(.badTarget, "target '\(whole)': expected ':port' after ']'")
        }
        return (String(inside), String(after.dropFirst()))
      }
    }
    // The last ':' outside brackets (10.0.0.[1:8]:22 has its port after the range).
    var depth = 0
    var colons: [String.Index] = []
    for index in text.indices {
      switch text[index] {
      case "[": depth += 1
      case "]": depth -= 1
      case ":" where depth == 0: colons.append(index)
      default: break
      }
    }
    guard let last = colons.last else { return (String(text), nil) }
    if colons.count > 1 { return (String(text), nil) }  // a bare IPv6 address
    return (String(text[..<last]), String(text[text.index(after: last)...]))
  }

  private static func looksLikeIPv6(_ text: Substring) -> Bool {
    let colons = text.filter { $0 == ":" }.count
    return text.contains("::") || colons == 7
  }

  /// Parses a port, 1...65535; `context` says where it comes from, for the error.
  static func parsePort(_ text: String, context: String) throws -> Int {
    guard let port = Int(text.trimmingCharacters(in: .whitespaces)), (1...65535).contains(port)
    else {
      throw InventoryError(
        .badPort, "bad port '\(text)' in \(context): a port is an integer between 1 and 65535")
    }
    return port
  }
}

extension Target {
  /// The node spec of this target (what a run needs of it): host, user, port, the inventory's key,
  /// the gateway chain; named as the target reads (`user@host:port`).
  public var nodeSpec: NodeSpec {
    .ssh(
      hostname, user: user, port: port, keys: keyPath.map { [$0] } ?? [], gateway: gateway?.nodeSpec,
      name: description)
  }
}
