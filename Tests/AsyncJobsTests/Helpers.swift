import Testing
@testable import AsyncJobs
