extension String {
  /// Text from bytes that may not be UTF-8 (a command line's argument): valid sequences decode as
  /// usual; each byte of an invalid one becomes the private-use character U+10FF00 + the byte, so
  /// that ``wireBytes`` gives that very byte back (as Python's `surrogateescape` does).
  public init(argumentBytes bytes: [UInt8]) {
    var scalars = String.UnicodeScalarView()
    var parser = Unicode.UTF8.ForwardParser()
    var iterator = bytes.makeIterator()
    var position = 0
    while true {
      switch parser.parseScalar(from: &iterator) {
      case .valid(let encoded):
        scalars.append(Unicode.UTF8.decode(encoded))
        position += encoded.count
      case .error(let length):
        for byte in bytes[position..<(position + length)] { scalars.append(Unicode.Scalar(0x10FF00 + UInt32(byte))!) }
        position += length
      case .emptyInput:
        self = String(scalars)
        return
      }
    }
  }

  /// The bytes to send for this text: UTF-8, with the stand-ins of ``init(argumentBytes:)`` turned
  /// back into the bytes they stand for.
  public var wireBytes: [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(utf8.count)
    for scalar in unicodeScalars {
      if (0x10FF80...0x10FFFF).contains(scalar.value) {
        bytes.append(UInt8(scalar.value - 0x10FF00))
      } else {
        bytes.append(contentsOf: String(scalar).utf8)
      }
    }
    return bytes
  }
}
