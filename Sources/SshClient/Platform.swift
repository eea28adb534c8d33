#if !os(Linux)
  #error("apssh-swift builds on Linux only: SshClient's reactor is an epoll loop (see Package.swift).")
#endif
