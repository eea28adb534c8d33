public enum AsyncJobsPlaceholder {}
