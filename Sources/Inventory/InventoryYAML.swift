import Foundation
import Yams

extension Inventory {
  /// Parses an inventory in the Ansible YAML layout:
  ///
  /// ```yaml
  /// all:
  ///   vars: {user: root}
  ///   children:
  ///     web:
  ///       hosts:
  ///         node[01:04]:          # a range: four hosts
  ///         db1: {ansible_host: 127.0.0.5, port: 2222}
  /// ```
  ///
  /// Top-level keys other than `all` are groups too (children of `all`).
  ///
  /// - Parameter path: the file name used in errors.
  /// - Throws: `InventoryError` with the file, line and column of the problem.
  public static func parse(yaml text: String, path: String? = nil) throws -> Inventory {
    var inventory = Inventory(path: path)
    guard let root = try YAMLSupport.compose(text, file: path), !root.isNull else {
      return inventory
    }
    guard let mapping = root.mapping else {
      throw YAMLSupport.error(
        .badStructure,
        "an inventory should be a mapping of groups (e.g. 'all:'), found \(YAMLSupport.kind(root))",
        at: root, file: path)
    }
    for (key, value) in mapping {
      let name = try groupName(key, path: path)
      try inventory.parseGroup(name, value, parent: nil)
    }
    return try inventory.validated()
  }

  private static func groupName(_ key: Node, path: String?) throws -> String {
    guard let name = key.scalarText, !name.isEmpty else {
      throw YAMLSupport.error(.badStructure, "a group name should be a plain word", at: key, file: path)
    }
    return name
  }

  private mutating func parseGroup(_ name: String, _ node: Node, parent: String?) throws {
    addGroup(name)
    if let parent { addChild(name, to: parent) }
    if node.isNull { return }
    guard let mapping = node.mapping else {
      throw YAMLSupport.error(
        .badStructure,
        "group '\(name)' should be a mapping with 'hosts:', 'vars:' or 'children:', found "
          + YAMLSupport.kind(node), at: node, file: path, key: name)
    }
    for (key, value) in mapping {
      switch key.scalarText {
      case "hosts":
        try parseHosts(value, group: name)
      case "vars":
        if value.isNull { continue }
        guard value.mapping != nil else {
          throw YAMLSupport.error(
            .badStructure,
            "'vars:' of group '\(name)' should be a mapping of 'name: value', found "
              + YAMLSupport.kind(value), at: value, file: path, key: "vars")
        }
        addVars(try parseVars(value, owner: "group '\(name)'"), to: name)
      case "children":
        if value.isNull { continue }
        guard let children = value.mapping else {
          throw YAMLSupport.error(
            .badStructure,
            "'children:' of group '\(name)' should be a mapping of group names (each ending in ':'), "
              + "found " + YAMLSupport.kind(value), at: value, file: path, key: "children")
        }
        for (childKey, childValue) in children {
          try parseGroup(try Self.groupName(childKey, path: path), childValue, parent: name)
        }
      default:
        throw YAMLSupport.error(
          .unknownKey,
          "group '\(name)' has an unknown key '\(key.textValue)'; expected 'hosts:', 'vars:' or "
            + "'children:' (a host goes under 'hosts:', a subgroup under 'children:')",
          at: key, file: path, key: key.textValue)
      }
    }
  }

  private mutating func parseHosts(_ node: Node, group: String) throws {
    if node.isNull { return }
    guard let hosts = node.mapping else {
      throw YAMLSupport.error(
        .badStructure,
        "'hosts:' of group '\(group)' should be a mapping of host names, each ending in ':' "
          + "(e.g. 'web1:' or 'web1: {port: 2222}'), found " + YAMLSupport.kind(node),
        at: node, file: path, key: "hosts")
    }
    for (key, value) in hosts {
      guard let pattern = key.scalarText, !pattern.isEmpty else {
        throw YAMLSupport.error(
          .badStructure, "a host name should be a plain word", at: key, file: path, key: "hosts")
      }
      var vars: [String: String] = [:]
      if !value.isNull {
        guard value.mapping != nil else {
          throw YAMLSupport.error(
            .badStructure,
            "host '\(pattern)' should be followed by a mapping of variables or by nothing, found "
              + YAMLSupport.kind(value), at: value, file: path, key: pattern)
        }
        vars = try parseVars(value, owner: "host '\(pattern)'")
      }
      let names: [String]
      do {
        names = try HostRange.expand(pattern)
      } catch let error as InventoryError {
        throw YAMLSupport.error(error.code, error.message, at: key, file: path, key: pattern)
      }
      for name in names { addHost(name, to: group, vars: vars) }
    }
  }

  /// The variables of a host or group. Connection settings (`Inventory.connectionKeys`) are
  /// checked; other variables that are lists or mappings are kept in YAML flow style.
  private func parseVars(_ node: Node, owner: String) throws -> [String: String] {
    var vars: [String: String] = [:]
    for (key, value) in node.mapping ?? [:] {
      let name = key.textValue
      let text = value.textValue
      if Self.connectionKeys.contains(name), !value.isNull, value.scalarText == nil {
        throw YAMLSupport.error(
          .badValue, "'\(name)' of \(owner) should be a single value, found \(YAMLSupport.kind(value))", at: value,
          file: path, key: name)
      }
      do {
        try Self.checkVariable(name, text, owner: owner)
      } catch let error as InventoryError {
        throw YAMLSupport.error(error.code, error.message, at: value, file: path, key: name)
      }
      vars[name] = text
    }
    return Self.canonicalized(vars)
  }
}
