#!/bin/sh
# Fan-out benchmark (issue 3): connect + exec `hostname` on 64 and 256 testbed hosts at once, 5 runs
# each (interleaved, each in a fresh child process), medians written to benchmarks/results/fanout.md.
#
#   scripts/bench-fanout.sh                       # 64 and 256 hosts, 5 runs each
#   HOSTS=1000 RUNS=3 scripts/bench-fanout.sh     # another size
#   scripts/bench-fanout.sh --dir /tmp/tb         # reuse a running testbed (aptestbed up N --dir /tmp/tb)
#
# Measure on a quiet machine: the table notes the load average before each run.
set -eu
cd "$(dirname "$0")/.."
swift build -c release --scratch-path .build-bench --product fanout-bench
echo "before: $(uptime)"
.build-bench/release/fanout-bench --hosts "${HOSTS:-64,256}" --runs "${RUNS:-5}" \
  --out "${OUT:-benchmarks/results/fanout.md}" "$@"
echo "after: $(uptime)"
