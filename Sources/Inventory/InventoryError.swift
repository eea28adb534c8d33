/// The one error type of the `Inventory` module.
///
/// Every error names, when it knows them, the file, the line and the column where the problem is,
/// the key at fault, what is wrong and what to do about it. Its `description` reads like a compiler
/// diagnostic: `inventories/web.yaml:12:5: port 70000 of host 'web1' is out of range (...)`.
public struct InventoryError: Error, Sendable, Equatable, CustomStringConvertible {
  /// What kind of problem this is, for programs that react differently to each.
  public enum Code: String, Sendable, Equatable {
    /// A file or directory that does not exist.
    case missingFile
    /// A file that exists but cannot be read or is not UTF-8 text.
    case unreadableFile
    /// A YAML syntax error.
    case badYAML
    /// Well-formed YAML or INI whose structure is not the expected one (e.g. `hosts:` not a mapping).
    case badStructure
    /// A key that is not allowed at this place.
    case unknownKey
    /// A mandatory key that is missing.
    case missingField
    /// A value of the wrong type or shape (e.g. a bool that is not a bool).
    case badValue
    /// A port that is not an integer in 1...65535.
    case badPort
    /// A malformed host range (`node[1-`), a reversed one, or one with too many hosts.
    case badRange
    /// A target string that cannot be parsed.
    case badTarget
    /// `@group` naming a group that no loaded inventory defines.
    case unknownGroup
    /// A scenario job naming a node that the scenario does not define.
    case unknownNode
    /// A scenario job requiring a job that the scenario does not define.
    case unknownJob
    /// A scenario command whose `type` is not one of Run, RunScript, RunString, Push, Pull.
    case unknownCommandType
    /// A `{{ name }}` in a scenario that is neither a `--var` nor a `capture:` of the file.
    case undefinedVariable
    /// A malformed `{{ ... }}` placeholder (a `{{` without `}}`, an expression that is not a name).
    case badTemplate
    /// Scenario jobs whose requirements form a cycle.
    case cycle
    /// A key that exists but is not supported (yet).
    case unsupported
    /// A duration that cannot be parsed (`"2x"`).
    case badDuration
  }

  /// What kind of problem this is.
  public var code: Code
  /// What is wrong and, when useful, what to do.
  public var message: String
  /// The file at fault, if any.
  public var file: String?
  /// The 1-based line in `file`, if known.
  public var line: Int?
  /// The 1-based column in `line`, if known.
  public var column: Int?
  /// The YAML / INI key at fault, if any.
  public var key: String?

  /// Creates an error.
  public init(
    _ code: Code, _ message: String, file: String? = nil, line: Int? = nil, column: Int? = nil,
    key: String? = nil
  ) {
    self.code = code
    self.message = message
    self.file = file
    self.line = line
    self.column = column
    self.key = key
  }

  /// `file:line:column: message`, leaving out what is unknown.
  public var description: String {
    var location = ""
    if let file {
      location = file
      if let line {
        location += ":\(line)"
        if let column { location += ":\(column)" }
      }
      location += ": "
    } else if let line {
      location = "line \(line): "
    }
    return location + message
  }

  /// The same error, with a file name filled in when it had none.
  func inFile(_ path: String?) -> InventoryError {
    var copy = self
    if copy.file == nil { copy.file = path }
    return copy
  }
}
