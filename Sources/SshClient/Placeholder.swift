public enum SshClientPlaceholder {}
