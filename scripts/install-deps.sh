#!/usr/bin/env bash
# Installs the Debian packages voiceorder builds, runs and tests with, when missing:
# pocketsphinx and its US English model (offline recognition, linked through cgo),
# espeak-ng (offline voice, run as a subprocess), and a C compiler with pkg-config.
# Safe to run again; it installs nothing that is already there.
set -euo pipefail

packages=(
	gcc pkg-config
	libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us
	espeak-ng
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing Debian packages: ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
	sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
