#!/usr/bin/env bash
# `make bench`: apssh-swift against pssh, clush, pdsh, the Python apssh and parallel-ssh on local
# testbeds of real sshd hosts (loopback only), then benchmarks/results/RESULTS.md and SVG charts.
#
#   scripts/bench.sh                 # everything (about 40 minutes on 2 cores)
#   BENCH_ONLY="fanout reuse" scripts/bench.sh   # a subset: fanout reuse volume transfer scale scheduler
#   RUNS=5 SLOW_RUNS=3 BENCH_NO_BUILD=1 BENCH_BIN=DIR scripts/bench.sh
#   BENCH_OURS_ONLY=1 BENCH_KEEP_RAW=1 scripts/bench.sh   # rerun our side only, keep the peers' data
#
# Every measured run goes through benchmarks/peers/measure.py (wall, client CPU user+sys of the
# whole client process tree, peak RSS, the floor from /proc/stat and from the testbed's sshd CPU),
# itself timed by hyperfine (--export-json; --prepare waits until the testbed is idle).
# Raw data: benchmarks/results/raw/ (gitignored). Every testbed started here is stopped on exit.
set -euo pipefail
# Run from a copy, so that editing this file during a run (bash reads scripts as it goes) is harmless.
if [ -z "${BENCH_ROOT:-}" ]; then
  copy=$(mktemp /tmp/apssh-bench-script.XXXXXX)
  cp "$0" "$copy"
  BENCH_ROOT=$(cd "$(dirname "$0")/.." && pwd) exec bash "$copy" "$@"
fi
cd "$BENCH_ROOT"
rm -f "$0"
ROOT=$PWD
RUNS=${RUNS:-5}
SLOW_RUNS=${SLOW_RUNS:-3}          # peers that take > 30 s per run (output volume, scale)
ONLY=${BENCH_ONLY:-"fanout reuse volume transfer scale scheduler"}
RESULTS=$ROOT/benchmarks/results
RAW=$RESULTS/raw
WORK=${BENCH_WORK:-/tmp/apssh-bench}
PY=$ROOT/benchmarks/.venv/bin/python
PEERS=$ROOT/benchmarks/peers
MEASURE="$PY $PEERS/measure.py"
BIN=${BENCH_BIN:-$ROOT/.build-peers/release}

want() { [[ " $ONLY " == *" $1 "* ]]; }
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

scripts/bench-setup.sh
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  for product in aptestbed reuse-bench asyncjobs-bench apssh appush appull; do
    swift build -c release --static-swift-stdlib --scratch-path .build-peers --product "$product" >/dev/null 2>&1 \
      || log "could not build $product (skipped where it is needed)"
  done
fi
[ -x "$BIN/aptestbed" ] || { log "no aptestbed in $BIN"; exit 1; }

mkdir -p "$RAW" "$WORK"
if [ -z "${BENCH_KEEP_RAW:-}" ]; then rm -f "$RAW"/*.jsonl "$RAW"/*.hyperfine.* "$RAW"/*.check.json "$RAW"/*.done; fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# --- testbeds -----------------------------------------------------------------------------------
TESTBEDS=()
testbed_up() {  # testbed_up N DIR
  local n=$1 dir=$2
  "$BIN/aptestbed" down --dir "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
  "$BIN/aptestbed" up "$n" --dir "$dir" >/dev/null
  TESTBEDS+=("$dir")
  sed 's/.*@//; s/:.*//' "$dir/hosts" >"$dir/addresses"
  for count in 1 8 16 64 256 1000; do
    if [ "$count" -le "$n" ]; then
      head -n "$count" "$dir/addresses" >"$dir/addresses.$count"
      head -n "$count" "$dir/hosts" >"$dir/hosts.$count"
    fi
  done
  log "testbed of $n hosts up in $dir"
}
testbed_down() {
  local dir=$1
  "$BIN/aptestbed" down --dir "$dir" >/dev/null 2>&1 || true
  log "testbed in $dir down"
}
cleanup() {
  for dir in "${TESTBEDS[@]}"; do testbed_down "$dir"; done
  rm -rf "$WORK/pull" "$WORK"/volume.* "$WORK/big.bin"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Our side: the apssh/appush/appull CLI when built (BENCH_NO_CLI=1: reuse-bench instead, the same
# SshJobs + HostFormatter path without the CLI).
use_cli() { [ -z "${BENCH_NO_CLI:-}" ] && [ -x "$BIN/apssh" ] && [ -x "$BIN/appush" ] && [ -x "$BIN/appull" ]; }
cli_conn() {  # the connection options of our CLI for a testbed
  CONN=(-k "$1/id_ed25519" --known-hosts "$1/known_hosts" --strict-host-keys)
}
ours_fanout() {  # ours_fanout TESTBED COUNT: sets OURS=(the command line before the remote command)
  local dir=$1 count=$2
  if use_cli; then
    cli_conn "$dir"
    OURS=("$BIN/apssh" -t "$dir/hosts.$count" "${CONN[@]}")
  else
    OURS=("$BIN/reuse-bench" --testbed "$dir" fanout "$count")
  fi
}
ours_reuse() {  # ours_reuse TESTBED seq|10x10: sets OURS
  local dir=$1 shape=$2
  if use_cli; then
    cli_conn "$dir"
    "$PY" - "$dir" "$shape" >"$dir/reuse-$shape.yaml" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1] + "/testbed.json")); h = d["hosts"][0]
jobs, per = (1, 100) if sys.argv[2] == "seq" else (10, 10)
print("nodes:\n  - id: h\n    hostname: %s\n    username: %s\n    port: %d" % (h["address"], d["user"], h["port"]))
print("jobs:")
for j in range(jobs):
    print("  - id: j%d\n    node: h\n    commands:" % j)
    for _ in range(per):
        print("      - type: Run\n        command: \"true\"")
PYEOF
    OURS=("$BIN/apssh" -S "$dir/reuse-$shape.yaml" "${CONN[@]}")
  else
    OURS=("$BIN/reuse-bench" --testbed "$dir" reuse "$shape")
  fi
}
ours_push() {  # ours_push TESTBED COUNT FILE REMOTE
  if use_cli; then
    cli_conn "$1"; OURS=("$BIN/appush" -t "$1/hosts.$2" "${CONN[@]}" "$3" "@:$4")
  else
    OURS=("$BIN/reuse-bench" --testbed "$1" push "$2" "$3" "$4")
  fi
}
ours_pull() {  # ours_pull TESTBED COUNT REMOTE LOCALDIR (one copy per host: LOCALDIR/<address>/)
  if use_cli; then
    cli_conn "$1"; OURS=("$BIN/appull" -t "$1/hosts.$2" "${CONN[@]}" "@:$3" "$4/{host}/$(basename "$3")")
  else
    OURS=("$BIN/reuse-bench" --testbed "$1" pull "$2" "$3" "$4")
  fi
}
jq_user() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]+"/testbed.json"))["user"])' "$1"; }
jq_port() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]+"/testbed.json"))["port"])' "$1"; }

load_now() { cut -d' ' -f1 /proc/loadavg; }

# bench TAG TESTBED RUNS STDOUT_FILE -- command words...
# One hyperfine benchmark whose command is measure.py around the tool.
bench() {
  local tag=$1 dir=$2 runs=$3 out=$4; shift 5
  if [ -n "${BENCH_OURS_ONLY:-}" ] && [[ "$tag" != *apssh-swift* ]]; then return 0; fi
  local inner
  inner=$(printf '%q ' "$@")
  local stdout_opt=""
  [ "$out" != - ] && stdout_opt="--stdout $out"
  log "$tag: $runs runs (load $(load_now)): $*"
  hyperfine --runs "$runs" -i --style basic --time-unit second \
    --prepare "$MEASURE --wait-idle $dir" \
    --export-json "$RAW/$tag.hyperfine.json" \
    --command-name "$tag" \
    "$MEASURE --out $RAW/$tag.jsonl --tag $tag --testbed $dir $stdout_opt -- $inner" >"$RAW/$tag.hyperfine.txt" 2>&1 \
    || log "$tag: hyperfine failed (see $RAW/$tag.hyperfine.txt)"
}

# --- 1. fan-out ---------------------------------------------------------------------------------
if want fanout; then
  T=$WORK/tb256
  testbed_up 256 "$T"
  for n in 64 256; do
    A=$T/addresses.$n
    ours_fanout "$T" "$n"
    bench "fanout-$n-apssh-swift" "$T" "$RUNS" - -- "${OURS[@]}" hostname
    bench "fanout-$n-apssh-python" "$T" "$RUNS" - -- "$PY" "$PEERS/apssh_driver.py" --testbed "$T" fanout --count "$n" -- hostname
    bench "fanout-$n-parallel-ssh" "$T" "$RUNS" - -- "$PY" "$PEERS/parallel_ssh_driver.py" --testbed "$T" --count "$n" -- hostname
    bench "fanout-$n-pssh" "$T" "$RUNS" - -- parallel-ssh -h "$A" -p 1024 -t 0 -x "-F $T/ssh_config" -i hostname
    bench "fanout-$n-clush" "$T" "$RUNS" - -- clush --hostfile "$A" -f 1024 -o "-F $T/ssh_config" hostname
    bench "fanout-$n-pdsh" "$T" "$RUNS" - -- env PDSH_SSH_ARGS_APPEND="-F $T/ssh_config" pdsh -R ssh -f 1024 -l "$(jq_user "$T")" -w "^$A" hostname
  done
  testbed_down "$T"
fi

# --- 2. connection reuse ------------------------------------------------------------------------
if want reuse; then
  T=$WORK/tb1
  testbed_up 1 "$T"
  H=$(head -n1 "$T/addresses")
  ours_reuse "$T" seq
  bench "reuse-seq-apssh-swift" "$T" "$RUNS" - -- "${OURS[@]}"
  ours_reuse "$T" 10x10
  bench "reuse-10x10-apssh-swift" "$T" "$RUNS" - -- "${OURS[@]}"
  bench "reuse-seq-apssh-python" "$T" "$RUNS" - -- "$PY" "$PEERS/apssh_driver.py" --testbed "$T" reuse --mode seq
  bench "reuse-10x10-apssh-python" "$T" "$RUNS" - -- "$PY" "$PEERS/apssh_driver.py" --testbed "$T" reuse --mode 10x10
  bench "reuse-seq-ssh" "$T" "$RUNS" - -- sh "$PEERS/ssh_loop.sh" "$T/ssh_config" "$H" plain
  bench "reuse-seq-ssh-controlmaster" "$T" "$RUNS" - -- sh "$PEERS/ssh_loop.sh" "$T/ssh_config" "$H" master
  testbed_down "$T"
fi

# --- 3. output volume ---------------------------------------------------------------------------
if want volume; then
  T=$WORK/tb16
  testbed_up 16 "$T"
  PAYLOAD=$(printf 'x%.0s' $(seq 70))         # 70 characters + newline = 71 bytes per line
  LINES=281690                                  # 281,690 x 71 = 19,999,990 bytes per host
  CMD="yes $PAYLOAD | head -n $LINES"
  A=$T/addresses.16
  volume() {  # volume TAG RUNS command...
    local tag=$1 runs=$2; shift 2
    bench "$tag" "$T" "$runs" "$WORK/volume.out" -- "$@"
    [ -s "$WORK/volume.out" ] || return 0
    "$PY" "$PEERS/check_output.py" "$WORK/volume.out" 16 "$LINES" "$PAYLOAD" >"$RAW/$tag.check.json" || true
    log "$tag: check $(cat "$RAW/$tag.check.json")"
    rm -f "$WORK/volume.out"
  }
  ours_fanout "$T" 16
  volume "volume-apssh-swift" "$RUNS" "${OURS[@]}" "$CMD"
  volume "volume-pdsh" "$RUNS" env PDSH_SSH_ARGS_APPEND="-F $T/ssh_config" pdsh -R ssh -f 1024 -l "$(jq_user "$T")" -w "^$A" "$CMD"
  volume "volume-apssh-python" "$SLOW_RUNS" "$PY" "$PEERS/apssh_driver.py" --testbed "$T" fanout --count 16 -- "$CMD"
  volume "volume-clush" "$SLOW_RUNS" clush --hostfile "$A" -f 1024 -o "-F $T/ssh_config" "$CMD"
  testbed_down "$T"
fi

# --- 4. transfer --------------------------------------------------------------------------------
if want transfer; then
  T=$WORK/tb8
  testbed_up 8 "$T"
  H=$(head -n1 "$T/addresses")
  BIG=$WORK/big.bin
  [ -s "$BIG" ] || head -c 268435456 /dev/urandom >"$BIG"    # 256 MiB
  REMOTE=/tmp/apssh-bench-big.bin
  for n in 1 8; do
    A=$T/addresses.$n
    ours_push "$T" "$n" "$BIG" "$REMOTE"
    bench "push-$n-apssh-swift" "$T" "$RUNS" - -- "${OURS[@]}"
    bench "push-$n-apssh-python" "$T" "$RUNS" - -- "$PY" "$PEERS/apssh_driver.py" --testbed "$T" push --count "$n" --file "$BIG" --remote "$REMOTE"
    bench "push-$n-pscp" "$T" "$RUNS" - -- parallel-scp -h "$A" -p 1024 -t 0 -x "-F $T/ssh_config" "$BIG" "$REMOTE"
    [ "$n" = 1 ] && bench "push-1-scp" "$T" "$RUNS" - -- scp -q -F "$T/ssh_config" "$BIG" "$H:$REMOTE"
    rm -rf "$WORK/pull"; mkdir -p "$WORK/pull"
    ours_pull "$T" "$n" "$REMOTE" "$WORK/pull"
    bench "pull-$n-apssh-swift" "$T" "$RUNS" - -- "${OURS[@]}"
    bench "pull-$n-apssh-python" "$T" "$RUNS" - -- "$PY" "$PEERS/apssh_driver.py" --testbed "$T" pull --count "$n" --remote "$REMOTE" --local "$WORK/pull"
    bench "pull-$n-pslurp" "$T" "$RUNS" - -- parallel-slurp -h "$A" -p 1024 -t 0 -x "-F $T/ssh_config" -L "$WORK/pull" "$REMOTE" big.bin
    [ "$n" = 1 ] && bench "pull-1-scp" "$T" "$RUNS" - -- scp -q -F "$T/ssh_config" "$H:$REMOTE" "$WORK/pull/scp.bin"
    # Nothing lost: the pulled copies are the pushed file.
    want_sum=$(sha256sum <"$BIG" | cut -d' ' -f1)
    bad=0
    while IFS= read -r f; do
      [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$want_sum" ] || bad=$((bad + 1))
    done < <(find "$WORK/pull" -type f)
    echo "{\"hosts\": $n, \"files\": $(find "$WORK/pull" -type f | wc -l), \"corrupt\": $bad}" >"$RAW/transfer-$n.check.json"
    log "transfer $n: $(cat "$RAW/transfer-$n.check.json")"
    rm -rf "$WORK/pull"
  done
  rm -f "$BIG"
  testbed_down "$T"
fi

# --- 5. scale -----------------------------------------------------------------------------------
if want scale; then
  T=$WORK/tb1000
  testbed_up 1000 "$T"
  ours_fanout "$T" 1000
  bench "scale-apssh-swift" "$T" "$RUNS" "$WORK/scale.out" -- "${OURS[@]}" "sleep 5; echo done"
  grep -c 'done$' "$WORK/scale.out" >"$RAW/scale-apssh-swift.done" || true
  rm -f "$WORK/scale.out"
  bench "scale-apssh-python" "$T" "$SLOW_RUNS" "$WORK/scale.out" -- "$PY" "$PEERS/apssh_driver.py" --testbed "$T" fanout --count 1000 -- "sleep 5; echo done"
  [ -n "${BENCH_OURS_ONLY:-}" ] || grep -c 'done$' "$WORK/scale.out" >"$RAW/scale-apssh-python.done" || true
  rm -f "$WORK/scale.out"
  testbed_down "$T"
fi

# --- 6. scheduler -------------------------------------------------------------------------------
if want scheduler; then
  out=$RAW/scheduler.txt
  : >"$out"
  for size in 10000 64000; do
    for kind in flat chain dag; do
      for _ in 1 2 3; do
        log "scheduler $kind $size (load $(load_now))"
        echo "swift $("$BIN/asyncjobs-bench" --case "$kind" --jobs "$size") $(load_now)" >>"$out"
        echo "python $("$PY" "$PEERS/asynciojobs_bench.py" --case "$kind" --jobs "$size") $(load_now)" >>"$out"
      done
    done
  done
fi

"$PY" benchmarks/report.py "$RAW" "$RESULTS"
log "wrote $RESULTS/RESULTS.md"
