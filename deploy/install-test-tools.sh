#!/usr/bin/env bash
# Installs the system tools the test suite drives, from Debian's packages, when
# they are missing: headless Chromium (status page test), promtool (alert
# rules) and the prometheus server (dashboard test), both from one package. Idempotent and quiet when everything is there; without root it only
# says what is missing (those tests then skip locally and fail under CI=true).
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
{ command -v promtool && command -v prometheus; } >/dev/null 2>&1 || missing+=(prometheus)
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[test-tools] missing: ${missing[*]} (install them with your package manager)" >&2
  exit 0
fi
echo "[test-tools] installing ${missing[*]} from Debian's packages..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
