import Foundation
import SshJobs
import Synchronization

/// Turns `-t` / `-x` values into the list of targets to run on.
///
/// Each value is read as apssh does (reference §2.3), with ranges, ports and groups added:
/// 1. if it names an existing file or directory — as given, else, for a relative name, under
///    `~/.apssh/` (`fallbackDirectory`):
///    - a **directory**: the names of its regular files are host names (this is how `--mark`
///      output dirs such as `run1/0ok/` are reused); hidden files and subdirectories are skipped;
///    - an **inventory** (`.yaml`, `.yml`, `.ini`, or content that looks like one): all its hosts;
///    - any other **file**: whitespace-separated targets, `#` starting a comment (a whole line or
///      the rest of one), blank lines ignored;
/// 2. otherwise a **literal**: whitespace- and comma-separated targets (commas inside `[...]`
///    belong to ranges).
///
/// Each target word is `@group` (hosts of the loaded inventories), or a `Target.parse(_:)` string
/// whose host may hold ranges. A plain host name that an inventory knows gets that host's
/// settings. The result is in order, each target once.
public struct TargetResolver: Sendable {
  /// The inventories that `@group` and host names are looked up in, in order.
  public var inventories: [Inventory] {
    didSet { addresses = AddressIndex() }
  }
  /// Inventory hosts by address, built when first needed.
  private var addresses = AddressIndex()
  /// The user for targets without one (`-l`); `nil` leaves `Target.user` unset.
  public var defaultUser: String?
  /// The gateway for targets without one (`-g`), except `None->host` ones.
  public var defaultGateway: Target?
  /// Where relative file names are looked up when they do not exist as given (`~/.apssh`).
  public var fallbackDirectory: String?

  /// The usual fallback directory, `~/.apssh`.
  public static var defaultFallbackDirectory: String {
    (HomeDirectory.path as NSString).appendingPathComponent(".apssh")
  }

  /// Creates a resolver.
  public init(
    inventories: [Inventory] = [], defaultUser: String? = nil, defaultGateway: Target? = nil,
    fallbackDirectory: String? = TargetResolver.defaultFallbackDirectory
  ) {
    self.inventories = inventories
    self.defaultUser = defaultUser
    self.defaultGateway = defaultGateway
    self.fallbackDirectory = fallbackDirectory
  }

  /// The targets of the `-t` values, less those of the `-x` values, in order, each once.
  ///
  /// A target is excluded when its hostname or inventory name is the hostname or name of an
  /// excluded target and, if that exclusion names a user (`-x root@h`), the users match too.
  /// `defaultUser` and `defaultGateway` are applied to what is left.
  ///
  /// - Throws: `InventoryError` for a bad target, range, file, inventory or unknown group.
  public func resolve(_ values: [String], excluding excludes: [String] = []) throws -> [Target] {
    try select(values, excluding: excludes).targets
  }

  /// What `-t` values and `-x` values select, each file or inventory read once.
  public struct Selection: Sendable, Equatable {
    /// The targets left, as `resolve` gives them.
    public let targets: [Target]
    /// The targets of the `-x` values.
    public let excludes: [Target]
    /// How many distinct targets of the `-t` values the exclusions removed.
    public let excludedCount: Int
    /// The `-t` values that gave no target at all (an empty group, file or directory).
    public var emptyValues: [String] = []
  }

  /// The targets of `values` less those of `excludes` (see `resolve`), with the excluded ones.
  ///
  /// - Throws: `InventoryError` for a bad target, range, file, inventory or unknown group.
  public func select(_ values: [String], excluding excludes: [String] = []) throws -> Selection {
    let excluded = try excludes.flatMap { try targets(of: $0) }
    let gateway = try defaultGateway.map(lookedUp)
    var seen = Set<Target>()
    var dropped = Set<Target>()
    var result: [Target] = []
    var emptyValues: [String] = []
    for value in values {
      let valueTargets = try targets(of: value)
      if valueTargets.isEmpty { emptyValues.append(value) }
      for target in valueTargets {
        let finished = applyingDefaults(target, gateway: gateway)
        if isExcluded(target, by: excluded) {
          dropped.insert(finished)
        } else if seen.insert(finished).inserted {
          result.append(finished)
          if result.count > HostRange.maximumHosts {
            throw InventoryError(
              .badRange,
              "the targets make more than \(HostRange.maximumHosts) hosts (at '\(value)'); run them in several batches")
          }
        }
      }
    }
    return Selection(targets: result, excludes: excluded, excludedCount: dropped.count, emptyValues: emptyValues)
  }

  /// The targets of one `-t` value, before exclusions and defaults.
  public func targets(of value: String) throws -> [Target] {
    if let path = existingPath(value) {
      var isDirectory: ObjCBool = false
      _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
      if isDirectory.boolValue { return try targets(inDirectory: path) }
      return try targets(inFile: path)
    }
    return try words(ofLiteral: value).flatMap { try targets(ofWord: $0) }
  }

  // MARK: - Pieces

  private func existingPath(_ value: String) -> String? {
    let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !trimmed.isEmpty else { return nil }
    let expanded = HomeDirectory.expandingTilde(in: trimmed)
    if FileManager.default.fileExists(atPath: expanded) { return expanded }
    if !expanded.hasPrefix("/"), let fallbackDirectory {
      let candidate = (fallbackDirectory as NSString).appendingPathComponent(expanded)
      if FileManager.default.fileExists(atPath: candidate) { return candidate }
    }
    return nil
  }

  private func targets(inDirectory path: String) throws -> [Target] {
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: path)
    } catch {
      throw InventoryError(.unreadableFile, "cannot list this directory: \(error)", file: path)
    }
    return try names.sorted().filter { name in
      guard !name.hasPrefix(".") else { return false }
      var isDirectory: ObjCBool = false
      let full = (path as NSString).appendingPathComponent(name)
      return FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory)
        && !isDirectory.boolValue
    }.map { name in
      do {
        return try lookedUp(Target.parse(name))
      } catch let error as InventoryError {
        throw InventoryError(error.code, "file name '\(name)': \(error.message)", file: path)
      }
    }
  }

  private func targets(inFile path: String) throws -> [Target] {
    let text = try Inventory.readText(path: path)
    if Inventory.formatFromExtension(path) != nil || Inventory.detectFormat(text: text) != nil {
      return try Inventory.parse(text: text, path: path).hosts(inGroup: "all")
    }
    var result: [Target] = []
    var lineNumber = 0
    for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
      lineNumber += 1
      for word in line.split(whereSeparator: \.isWhitespace) {
        if word.hasPrefix("#") { break }
        do {
          result += try targets(ofWord: String(word))
        } catch let error as InventoryError {
          var located = error
          located.file = path
          located.line = lineNumber
          throw located
        }
      }
    }
    return result
  }

  /// Splits on whitespace and on commas outside brackets.
  private func words(ofLiteral value: String) -> [String] {
    var words: [String] = []
    var current = ""
    var depth = 0
    for char in value {
      if char == "[" { depth += 1 }
      if char == "]" { depth -= 1 }
      if char.isWhitespace || (char == "," && depth <= 0) {
        if !current.isEmpty { words.append(current) }
        current = ""
      } else {
        current.append(char)
      }
    }
    if !current.isEmpty { words.append(current) }
    return words
  }

  private func targets(ofWord word: String) throws -> [Target] {
    if word.hasPrefix("@") {
      return try hosts(inGroup: String(word.dropFirst()))
    }
    let parsed = try Target.parse(word)
    return try parsed.expandingRanges().map(lookedUp)
  }

  /// `target` with what the inventories know about its host, and about its gateway's: the one
  /// lookup for every place a host name appears (`-t` words and files, directory entries, `-g`,
  /// `gw->host`).
  ///
  /// A host is known by its inventory name, else by its address (`host`/`ansible_host`, with the
  /// same port when `target` names one), in the first inventory that has it. The user and port
  /// written in `target` win over the inventory's; so does a gateway written in it (`gw->host`,
  /// `None->host`) over the inventory's `gateway`.
  public func lookedUp(_ target: Target) throws -> Target {
    var result = target
    if let known = try knownTarget(target) {
      result = known
      if let user = target.user { result.user = user }
      if let port = target.port { result.port = port }
      if target.gateway != nil || target.forceDirect {
        result.gateway = nil
        result.forceDirect = target.forceDirect
      }
    }
    if let gateway = target.gateway { result.gateway = try lookedUp(gateway) }
    return result
  }

  private func knownTarget(_ target: Target) throws -> Target? {
    if let inventory = inventories.first(where: { $0.hasHost(target.hostname) }) {
      return try inventory.target(forHost: target.hostname)
    }
    for (position, name) in addresses.hosts(at: target.hostname, in: inventories) {
      let known = try inventories[position].target(forHost: name)
      if target.port == nil || known.port ?? 22 == target.port { return known }
    }
    return nil
  }

  /// The hosts of `@name` in every inventory that has that group, in order, each once.
  ///
  /// - Throws: `InventoryError` `.unknownGroup` listing the known groups when none has it.
  public func hosts(inGroup name: String) throws -> [Target] {
    let having = inventories.filter { $0.hasGroup(name) }
    guard !having.isEmpty else {
      var known: [String] = []
      for inventory in inventories {
        for group in inventory.groupNames where !known.contains(group) { known.append(group) }
      }
      let list = known.isEmpty ? "none (no inventory loaded; use -I FILE)" : known.joined(separator: ", ")
      throw InventoryError(.unknownGroup, "unknown group '@\(name)'; known groups: \(list)")
    }
    var seen = Set<Target>()
    var result: [Target] = []
    for inventory in having {
      for target in try inventory.hosts(inGroup: name) where seen.insert(target).inserted {
        result.append(target)
      }
    }
    return result
  }

  private func isExcluded(_ target: Target, by excluded: [Target]) -> Bool {
    excluded.contains { exclusion in
      let names: Set<String> = [exclusion.hostname, exclusion.name]
      guard names.contains(target.hostname) || names.contains(target.name) else { return false }
      guard let user = exclusion.user else { return true }
      return (target.user ?? defaultUser) == user
    }
  }

  private func applyingDefaults(_ target: Target, gateway: Target?) -> Target {
    var result = target
    if result.gateway == nil, !result.forceDirect, let gateway {
      result.gateway = gateway
    }
    return result.withDefaultUser(defaultUser)
  }
}

/// The hosts of some inventories by the address they connect to (`host`/`ansible_host`), in
/// inventory and file order; computed once, on first use, as most names are inventory names.
private final class AddressIndex: Sendable {
  private let index = Mutex<[String: [(inventory: Int, name: String)]]?>(nil)

  func hosts(at address: String, in inventories: [Inventory]) -> [(inventory: Int, name: String)] {
    index.withLock { index in
      if index == nil {
        var built: [String: [(inventory: Int, name: String)]] = [:]
        for (position, inventory) in inventories.enumerated() {
          for name in inventory.hostNames {
            guard let address = inventory.vars(forHost: name)?["host"], address != name else { continue }
            built[address, default: []].append((position, name))
          }
        }
        index = built
      }
      return index?[address] ?? []
    }
  }
}
