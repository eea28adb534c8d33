/// The version of the apssh-swift tools.
public enum APSSHVersion {
  /// `X.Y.Z`.
  public static let current = "0.1.0"
}
