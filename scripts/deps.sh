#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install xlb's build and test dependencies from Debian's archive, only the
# ones that are missing, and mount bpffs. Idempotent and quick when all is there.
set -euo pipefail

PKGS=(
	# build
	clang llvm gcc make pkg-config libbpf-dev libxdp-dev bpftool libelf-dev zlib1g-dev
	libxxhash-dev libjansson-dev libcurl4-openssl-dev libmicrohttpd-dev
	# run and test
	iproute2 ethtool xdp-tools socat nginx-light curl procps util-linux openssl python3
	prometheus	# promtool checks /metrics; lab tests scrape with a real server
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing ${missing[*]}; run as root to install" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# nginx-light's package starts a server on :80 of the host; xlb's labs run
# their own nginx inside namespaces, so keep the packaged one stopped.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q nginx 2>/dev/null; then
	systemctl stop nginx || true
fi
# Likewise Debian's prometheus starts a server on :9090; tests run their own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q prometheus 2>/dev/null; then
	systemctl stop prometheus || true
fi

if [ "$(id -u)" = 0 ] && ! mountpoint -q /sys/fs/bpf; then
	mount -t bpf bpf /sys/fs/bpf
fi
exit 0
