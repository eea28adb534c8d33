#!/usr/bin/env bash
# Installs what the peer benchmarks need, only what is missing:
#   Debian: pssh clustershell pdsh hyperfine time gnuplot-nox
#   PyPI (scratch venv benchmarks/.venv, gitignored): apssh asynciojobs parallel-ssh
# Idempotent; safe to rerun. Needs root (or sudo) for apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# Debian packages: binary to look for -> package.
declare -A WANT=(
  [parallel-ssh]=pssh [clush]=clustershell [pdsh]=pdsh [hyperfine]=hyperfine
  [/usr/bin/time]=time [gnuplot]=gnuplot-nox
)
missing=()
for bin in "${!WANT[@]}"; do
  if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "$bin" ]; then missing+=("${WANT[$bin]}"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench-setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Python peers in a scratch venv. The Debian python3 (not a pyenv shim) when available.
PY=${BENCH_PYTHON:-}
if [ -z "$PY" ]; then
  if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=$(command -v python3); fi
fi
VENV=benchmarks/.venv
if [ ! -x "$VENV/bin/python" ]; then
  if ! "$PY" -m venv "$VENV" 2>/dev/null; then
    $SUDO apt-get install -y -qq --no-install-recommends python3-venv
    "$PY" -m venv "$VENV"
  fi
fi
if ! "$VENV/bin/python" -c 'import apssh, asynciojobs, pssh' 2>/dev/null; then
  "$VENV/bin/pip" install -q --disable-pip-version-check apssh asynciojobs parallel-ssh
fi
echo "bench-setup: ok ($("$VENV/bin/python" -c 'import apssh, asynciojobs, pssh.clients; print("apssh", apssh.__version__ if hasattr(apssh, "__version__") else "?")'))"
