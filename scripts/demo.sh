#!/usr/bin/env bash
# `make demo`: an 8-host testbed of real sshd hosts on loopback, then apssh, a scenario, appush and
# appull on it, with their results and the job listing; the testbed is stopped at exit, whatever happens.
# Uses the release binaries (make release); BIN=dir overrides where they are.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
for tool in aptestbed apssh appush appull; do
  [ -x "$BIN/$tool" ] || { echo "demo: $BIN/$tool is missing; run make release first" >&2; exit 2; }
done

D=$(mktemp -d "${TMPDIR:-/tmp}/apssh-demo.XXXXXX")
stop() {
  status=$?
  "$BIN/aptestbed" down --dir "$D" >/dev/null 2>&1 || true
  rm -rf "$D"
  exit $status
}
trap stop EXIT
trap 'exit 130' INT TERM

step() { printf '\n\033[1m========== %s\033[0m\n$ %s\n' "$1" "$2"; }

step "start an 8-host testbed" "aptestbed up 8 --dir $D"
"$BIN/aptestbed" up 8 --dir "$D"
# Every command below reads the testbed's inventory (hosts, port, user, key) and its known_hosts.
COMMON=(-I "$D/inventory.yaml" --known-hosts "$D/known_hosts")

step "the targets of @testbed" "apssh -I $D/inventory.yaml -t @testbed -L"
"$BIN/apssh" "${COMMON[@]}" -t @testbed -L

step "an ad-hoc command on every host" "apssh -t @testbed 'echo \$(whoami) on \$(hostname), load \$(cut -d\" \" -f1 /proc/loadavg)'"
"$BIN/apssh" "${COMMON[@]}" -t @testbed 'echo $(whoami) on $(hostname), load $(cut -d" " -f1 /proc/loadavg)'
echo "exit code: $?"

step "one host failing among good ones (exit code 1)" "apssh -t '127.0.0.[2-4]' 'case \"\$SSH_CONNECTION\" in *127.0.0.3*) echo failing >&2; exit 3;; *) echo fine;; esac'"
set +e
"$BIN/apssh" "${COMMON[@]}" -t '127.0.0.[2-4]' 'case "$SSH_CONNECTION" in *127.0.0.3*) echo failing >&2; exit 3;; *) echo fine;; esac'
echo "exit code: $?"
set -e

step "JSON output (one record per host)" "apssh -t '127.0.0.[2-3]' --json 'uname -s'"
"$BIN/apssh" "${COMMON[@]}" -t '127.0.0.[2-3]' --json 'uname -s'

step "the scenario's job listing (dependencies, window 4)" "apssh -S examples/scenarios/demo.yaml --dry-run"
"$BIN/apssh" "${COMMON[@]}" -S examples/scenarios/demo.yaml --dry-run

step "the scenario, for real" "apssh -S examples/scenarios/demo.yaml"
"$BIN/apssh" "${COMMON[@]}" -S examples/scenarios/demo.yaml
echo "exit code: $?"

echo "pushed by appush at $(date +%T)" > "$D/note.txt"
step "push a file to every host" "appush -t @testbed $D/note.txt @:demo-note-{host}.txt"
"$BIN/appush" "${COMMON[@]}" -t @testbed "$D/note.txt" @:demo-note-{host}.txt
echo "exit code: $?"

step "pull it back, one local file per host" "appull -t @testbed @:demo-note-{host}.txt $D/pulled/{host}.txt"
"$BIN/appull" "${COMMON[@]}" -t @testbed @:demo-note-{host}.txt "$D/pulled/{host}.txt"
echo "exit code: $?"
ls "$D/pulled"
echo "$D/pulled/127.0.0.2.txt: $(cat "$D/pulled/127.0.0.2.txt")"
"$BIN/apssh" "${COMMON[@]}" -t @testbed rm -f 'demo-note-*.txt'

step "stop the testbed" "aptestbed down --dir $D"
