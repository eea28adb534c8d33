#!/bin/sh
# 100 `true` on one testbed host with OpenSSH: a new connection each time, or multiplexed.
#   ssh_loop.sh SSH_CONFIG HOST plain|master
set -eu
config=$1 host=$2 mode=$3
if [ "$mode" = plain ]; then
  i=0; while [ $i -lt 100 ]; do ssh -F "$config" "$host" true; i=$((i + 1)); done
else
  sock=$(mktemp -u /tmp/bench-cm.XXXXXX)
  ssh -F "$config" -o ControlMaster=yes -o ControlPath="$sock" -fN "$host"
  i=0; while [ $i -lt 100 ]; do ssh -F "$config" -o ControlPath="$sock" "$host" true; i=$((i + 1)); done
  ssh -F "$config" -o ControlPath="$sock" -O exit "$host" 2>/dev/null
fi
