#!/bin/sh
# Makes sure promtool is on PATH for the deploy tests (tests/unit/test_deploy.py
# checks and unit-tests deploy/prometheus with it). It comes from Debian's
# "prometheus" package, which also ships the server binary that the Prometheus
# integration tests start.
#
# Idempotent: does nothing when promtool is already there. Installs only as root
# on a system with apt-get; anywhere else it says what to do and exits 0, and
# the tests then skip (or fail under CI=true) with the same advice.
set -eu

if command -v promtool >/dev/null 2>&1; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "promtool is not installed; on Debian or Ubuntu run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends prometheus" >&2
    exit 0
fi

# --no-install-recommends: the package recommends the node exporter, which the
# tests do not need. On a host with systemd the package also enables a
# prometheus service; CI machines and containers have no systemd to start it.
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends prometheus
command -v promtool >/dev/null
