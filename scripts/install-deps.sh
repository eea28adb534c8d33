#!/usr/bin/env bash
# Installs the Debian packages the project needs, only those missing; sudo only when not root.
set -euo pipefail
# fish, tcsh and zsh: the tests check that remote commands can be stopped whatever the login shell.
packages=(pkg-config libssh2-1-dev libssl-dev openssh-server openssh-client graphviz fish tcsh zsh "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
