import Foundation
import SshJobs

/// A host inventory in the Ansible layout: groups of hosts, with variables.
///
/// Groups form a tree under `all` (`children`); group variables are inherited down the tree,
/// deeper groups overriding shallower ones and host variables overriding every group's. A host may
/// be listed in several groups. The connection of a host is read from its effective variables:
/// `ansible_host`/`host`, `ansible_port`/`port`, `ansible_user`/`user`,
/// `ansible_ssh_private_key_file`/`key`, and `gateway` (another host of this inventory, or a
/// target string such as `admin@bastion`).
///
/// Load one with `Inventory.load(path:)` (YAML or INI), `Inventory.parse(yaml:path:)` or
/// `Inventory.parse(ini:path:)`.
public struct Inventory: Sendable, Equatable {
  /// A group: the hosts listed in it, its child groups, its own variables.
  public struct Group: Sendable, Equatable {
    /// The group name, as used in `@name`.
    public var name: String
    /// The hosts listed directly in this group, in file order.
    public var hosts: [String]
    /// The names of the child groups, in file order.
    public var children: [String]
    /// The variables set on this group itself (not inherited ones).
    public var vars: [String: String]
  }

  /// The file formats an inventory can be read from.
  public enum Format: String, Sendable, Equatable {
    /// The Ansible YAML layout (`all:` / `children:` / `hosts:` / `vars:`).
    case yaml
    /// The Ansible INI layout (`[group]`, `[group:vars]`, `[group:children]`).
    case ini
  }

  /// The file this inventory was read from, if any.
  public var path: String?
  /// Every group name, `all` first, then in the order they appear.
  public private(set) var groupNames: [String] = ["all"]
  /// The groups by name.
  public private(set) var groups: [String: Group] = [
    "all": Group(name: "all", hosts: [], children: [], vars: [:])
  ]
  /// Every host name, in the order they first appear.
  public private(set) var hostNames: [String] = []
  /// The variables set on each host itself (not inherited ones).
  public private(set) var hostVars: [String: [String: String]] = [:]

  /// The name of the implicit group of INI hosts listed before any section.
  public static let ungrouped = "ungrouped"

  /// Variable names read as connection settings, and the Ansible names they are read from too.
  /// Within one host or group, our own key wins over its Ansible aliases.
  public static let aliases: [(key: String, ansible: [String])] = [
    ("host", ["ansible_host", "ansible_ssh_host"]),
    ("port", ["ansible_port", "ansible_ssh_port"]),
    ("user", ["ansible_user", "ansible_ssh_user"]),
    ("key", ["ansible_ssh_private_key_file", "ansible_private_key_file"]),
  ]

  /// An empty inventory (only the group `all`).
  public init(path: String? = nil) {
    self.path = path
  }

  // MARK: - Loading

  /// Reads an inventory file; the format comes from the extension (`.yaml`, `.yml`, `.ini`), else
  /// from the content (see `detectFormat(text:)`), else YAML.
  ///
  /// - Throws: `InventoryError` naming the file, and the line where known.
  public static func load(path: String) throws -> Inventory {
    try parse(text: try readText(path: path), path: path)
  }

  /// Parses the text of the inventory file `path`, in the format its extension or its text says
  /// (YAML when neither does).
  public static func parse(text: String, path: String) throws -> Inventory {
    switch formatFromExtension(path) ?? detectFormat(text: text) ?? .yaml {
    case .yaml: return try parse(yaml: text, path: path)
    case .ini: return try parse(ini: text, path: path)
    }
  }

  /// Loads several inventory files, in order.
  public static func load(paths: [String]) throws -> [Inventory] {
    try paths.map { try load(path: $0) }
  }

  /// The default inventory files that exist: `~/.apssh/inventory.yaml` (or `.yml`, `.ini`).
  /// The CLI decides whether to load them.
  public static func defaultPaths(home: String = HomeDirectory.path) -> [String] {
    ["inventory.yaml", "inventory.yml", "inventory.ini"]
      .map { (home as NSString).appendingPathComponent(".apssh/\($0)") }
      .filter { FileManager.default.fileExists(atPath: $0) }
  }

  /// The format an extension says: `.yaml`/`.yml` → YAML, `.ini` → INI, else `nil`.
  public static func formatFromExtension(_ path: String) -> Format? {
    switch (path as NSString).pathExtension.lowercased() {
    case "yaml", "yml": return .yaml
    case "ini": return .ini
    default: return nil
    }
  }

  /// Guesses the format of an inventory from its first meaningful line: `[group]` → INI, a YAML
  /// document start or a `key:` line → YAML; `nil` when it looks like neither (e.g. a plain list
  /// of hosts, one per line).
  public static func detectFormat(text: String) -> Format? {
    for rawLine in text.split(whereSeparator: \.isNewline) {
      let line = rawLine.trimmingCharacters(in: .whitespaces)
      if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
      if isIniSectionHeader(line) { return .ini }
      if line == "---" || line.hasSuffix(":") || line.contains(": ") { return .yaml }
      return nil
    }
    return nil
  }

  /// `[name]`, `[name:vars]` or `[name:children]`, with a name of letters, digits, `_`, `.` and
  /// `-` not starting with a digit, `.` or `-`. (Checked by hand: an ICU regular expression costs
  /// 1.7 ms of start-up, a tenth of a one-host run.)
  static func isIniSectionHeader(_ line: String) -> Bool {
    guard line.hasPrefix("["), line.hasSuffix("]"), line.count > 2 else { return false }
    var name = Substring(line.dropFirst().dropLast())
    for suffix in [":vars", ":children"] where name.hasSuffix(suffix) {
      name = name.dropLast(suffix.count)
      break
    }
    func isLetter(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c == "_") }
    guard let first = name.first, isLetter(first) else { return false }
    return name.allSatisfy { isLetter($0) || ($0.isASCII && $0.isNumber) || $0 == "." || $0 == "-" }
  }

  static func readText(path: String) throws -> String {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw InventoryError(.missingFile, "no such file; check the path", file: path)
    }
    guard !isDirectory.boolValue else {
      throw InventoryError(.unreadableFile, "is a directory, not a file", file: path)
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw InventoryError(.unreadableFile, "cannot read this file; check its permissions", file: path)
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw InventoryError(.unreadableFile, "not UTF-8 text", file: path)
    }
    return text
  }

  // MARK: - Queries

  /// Whether a group of that name exists.
  public func hasGroup(_ name: String) -> Bool { groups[name] != nil }

  /// Whether a host of that name exists.
  public func hasHost(_ name: String) -> Bool { hostVars[name] != nil }

  /// The hosts of a group and of all its descendants, in order, each once; `all` gives every host.
  ///
  /// - Throws: `InventoryError` `.unknownGroup`, listing the known groups.
  public func hostNames(inGroup name: String) throws -> [String] {
    guard groups[name] != nil else { throw unknownGroupError(name) }
    if name == "all" { return hostNames }
    var seen = Set<String>()
    var visited = Set<String>()
    var result: [String] = []
    func visit(_ groupName: String) {
      guard visited.insert(groupName).inserted, let group = groups[groupName] else { return }
      for host in group.hosts where seen.insert(host).inserted { result.append(host) }
      for child in group.children { visit(child) }
    }
    visit(name)
    return result
  }

  /// The targets of a group (see `hostNames(inGroup:)` and `target(forHost:)`).
  public func hosts(inGroup name: String) throws -> [Target] {
    try hostNames(inGroup: name).map { try target(forHost: $0) }
  }

  /// The effective variables of a host: group variables from `all` down, deeper groups winning,
  /// then the host's own; `nil` for an unknown host.
  public func vars(forHost name: String) -> [String: String]? {
    guard let own = hostVars[name] else { return nil }
    let direct = groupNames.filter { groups[$0]?.hosts.contains(name) == true }
    var ancestors: Set<String> = ["all"]
    var pending = direct
    while let group = pending.popLast() {
      if ancestors.insert(group).inserted { pending += parents(of: group) }
    }
    let ordered = groupNames.enumerated()
      .filter { ancestors.contains($0.element) }
      .sorted { (depth(of: $0.element), $0.offset) < (depth(of: $1.element), $1.offset) }
    var result: [String: String] = [:]
    for (_, group) in ordered {
      result.merge(groups[group]?.vars ?? [:]) { _, new in new }
    }
    result.merge(own) { _, new in new }
    return result
  }

  /// The target of a host: where its variables say to connect, its gateway, and every variable.
  ///
  /// - Throws: `InventoryError` for an unknown host, a bad `gateway` or a gateway loop.
  public func target(forHost name: String) throws -> Target {
    try target(forHost: name, visiting: [])
  }

  private func target(forHost name: String, visiting: [String]) throws -> Target {
    guard let vars = vars(forHost: name) else {
      throw InventoryError(.badTarget, "no host '\(name)' in this inventory", file: path)
    }
    var target = Target(
      hostname: vars["host"] ?? name, user: vars["user"], keyPath: vars["key"], name: name,
      vars: vars)
    if let port = vars["port"] {
      target.port = try Target.parsePort(port, context: "host '\(name)'")
    }
    if let gateway = vars["gateway"], !gateway.isEmpty {
      if gateway == "None" {
        target.forceDirect = true
      } else if hasHost(gateway) {
        guard !visiting.contains(gateway), gateway != name else {
          throw InventoryError(
            .badStructure,
            "gateway loop: \((visiting + [name, gateway]).joined(separator: " -> "))", file: path,
            key: "gateway")
        }
        target.gateway = try self.target(forHost: gateway, visiting: visiting + [name])
      } else {
        do {
          target.gateway = try Target.parse(gateway)
        } catch let error as InventoryError {
          throw InventoryError(
            error.code, "gateway of host '\(name)': \(error.message)", file: path, key: "gateway")
        }
      }
    }
    return target
  }

  /// The `.unknownGroup` error for `name`, listing the groups there are.
  func unknownGroupError(_ name: String) -> InventoryError {
    InventoryError(
      .unknownGroup,
      "unknown group '@\(name)'; known groups: \(groupNames.joined(separator: ", "))", file: path)
  }

  // MARK: - Building (used by the parsers)

  func parents(of group: String) -> [String] {
    groupNames.filter { groups[$0]?.children.contains(group) == true }
  }

  /// `all` is 0, a group without parent 1, others one more than their deepest parent.
  func depth(of group: String, visiting: Set<String> = []) -> Int {
    if group == "all" { return 0 }
    let parents = parents(of: group).filter { $0 != "all" && !visiting.contains($0) }
    if parents.isEmpty { return 1 }
    return 1 + (parents.map { depth(of: $0, visiting: visiting.union([group])) }.max() ?? 0)
  }

  mutating func addGroup(_ name: String) {
    if groups[name] == nil {
      groups[name] = Group(name: name, hosts: [], children: [], vars: [:])
      groupNames.append(name)
    }
  }

  mutating func addChild(_ child: String, to parent: String) {
    addGroup(parent)
    addGroup(child)
    guard child != "all", parent != child else { return }
    if groups[parent]?.children.contains(child) == false { groups[parent]?.children.append(child) }
  }

  mutating func addHost(_ name: String, to group: String, vars: [String: String]) {
    addGroup(group)
    if hostVars[name] == nil {
      hostVars[name] = [:]
      hostNames.append(name)
    }
    hostVars[name]?.merge(vars) { _, new in new }
    if group != "all", groups[group]?.hosts.contains(name) == false {
      groups[group]?.hosts.append(name)
    }
  }

  mutating func addVars(_ vars: [String: String], to group: String) {
    addGroup(group)
    groups[group]?.vars.merge(vars) { _, new in new }
  }

  /// Adds our own keys for the Ansible ones of one host or group (`ansible_user` → `user`...).
  static func canonicalized(_ vars: [String: String]) -> [String: String] {
    var result = vars
    for (key, ansibleKeys) in aliases where result[key] == nil {
      if let value = ansibleKeys.lazy.compactMap({ vars[$0] }).first { result[key] = value }
    }
    return result
  }

  /// Whether a variable name is a port (ours or Ansible's), to check its value early.
  static func isPortKey(_ key: String) -> Bool {
    key == "port" || key == "ansible_port" || key == "ansible_ssh_port"
  }

  /// The variables a connection is made from (ours and Ansible's names), and `gateway`: their
  /// values are single words.
  static let connectionKeys: Set<String> = Set(aliases.flatMap { [$0.key] + $0.ansible } + ["gateway"])

  /// Checks one variable of `owner` (`host 'web1'`, `group 'db'`) as it is read: a port must be a
  /// port, and a host, user, key or port must not be empty (an empty `ansible_host` would
  /// connect to nothing). Throws an `InventoryError` without a location (the parser adds it).
  static func checkVariable(_ key: String, _ value: String, owner: String) throws {
    guard connectionKeys.contains(key) else { return }
    if key != "gateway", value.trimmingCharacters(in: .whitespaces).isEmpty {
      throw InventoryError(.badValue, "'\(key)' of \(owner) is empty: give it a value or remove it", key: key)
    }
    if isPortKey(key) { _ = try Target.parsePort(value, context: "'\(key)' of \(owner)") }
  }

  /// Checks every host's connection settings (ports, gateways), throwing the first problem.
  func validated() throws -> Inventory {
    for host in hostNames { _ = try target(forHost: host) }
    return self
  }
}
