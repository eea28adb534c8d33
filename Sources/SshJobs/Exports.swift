/// `import SshJobs` also gives the scheduler (`Scheduler`, `AbstractJob`, `JobSequence`, …) and the
/// SSH layer's public types (`ExitStatus`, `HostKeyPolicy`, `SshError`, `SshConnection`, …).
@_exported import AsyncJobs
@_exported import SshClient
