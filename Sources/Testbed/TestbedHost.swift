/// One host of a testbed: a loopback address served by one of the testbed's sshd processes.
public struct TestbedHost: Sendable, Hashable, Codable, CustomStringConvertible {
  /// Loopback address, e.g. `127.0.0.2`.
  public var address: String
  /// TCP port (the same for every host of a testbed).
  public var port: UInt16
  /// Short label: `host1`, `host2`, … in address order.
  public var name: String
  /// Index of the sshd process serving it (inventory group `sshd<index>`).
  public var sshdIndex: Int

  /// Creates a host description.
  public init(address: String, port: UInt16, name: String, sshdIndex: Int) {
    self.address = address
    self.port = port
    self.name = name
    self.sshdIndex = sshdIndex
  }

  /// `address:port`.
  public var description: String { "\(address):\(port)" }

  /// The address of the host with 0-based `index`: 127.0.0.2, 127.0.0.3, … 127.0.0.255,
  /// 127.0.1.0, 127.0.1.1, … (address number index + 2 in 127.0.0.0/16).
  public static func address(index: Int) -> String {
    let number = index + 2
    return "127.0.\(number / 256).\(number % 256)"
  }
}
