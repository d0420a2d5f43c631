#!/usr/bin/env bash
# Prepares a Debian/Ubuntu host for dockerd-lite's tests: the packages a
# rootless engine needs and a usable /dev/net/tun. Idempotent. As root it
# installs only what is missing (apt-get update only when the package lists
# cannot supply it); as an ordinary user it only reports what is missing.
set -euo pipefail

# The last two are clients the compatibility tests drive: docker-py and Compose v1.
packages=(uidmap slirp4netns busybox-static fuse-overlayfs libseccomp-dev pkg-config iproute2 python3-docker docker-compose)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
		missing+=("$p")
	fi
done

tun_ok() { [[ -c /dev/net/tun && $(stat -c %a /dev/net/tun) == 666 ]]; }

report() {
	local rc=0
	if ((${#missing[@]})); then
		echo "setup-host: missing packages: ${missing[*]} (as root: apt-get install -y ${missing[*]})"
		rc=1
	fi
	if ! tun_ok; then
		echo "setup-host: /dev/net/tun is missing or not mode 0666 (as root: chmod 0666 /dev/net/tun)"
		rc=1
	fi
	if [[ -r /proc/sys/kernel/unprivileged_userns_clone && $(cat /proc/sys/kernel/unprivileged_userns_clone) != 1 ]]; then
		echo "setup-host: kernel.unprivileged_userns_clone=0 (as root: sysctl -w kernel.unprivileged_userns_clone=1)"
		rc=1
	fi
	if ! command -v docker >/dev/null && [[ ! -x /usr/local/bin/docker ]]; then
		echo "setup-host: no docker CLI in PATH or /usr/local/bin/docker; the e2e tests drive it"
		rc=1
	fi
	((rc)) || echo "setup-host: nothing missing"
	return 0
}

if [[ $(id -u) -ne 0 ]]; then
	report
	exit 0
fi

if ((${#missing[@]})); then
	export DEBIAN_FRONTEND=noninteractive
	# Update the lists only if one of the packages has no install candidate.
	for p in "${missing[@]}"; do
		if ! apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [^(]'; then
			apt-get update -qq
			break
		fi
	done
	apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
	missing=()
fi

if [[ ! -e /dev/net/tun ]]; then
	mkdir -p /dev/net
	mknod /dev/net/tun c 10 200 || echo "setup-host: cannot create /dev/net/tun" >&2
fi
[[ -e /dev/net/tun ]] && chmod 0666 /dev/net/tun
# Started by root, the daemon maps containers to root's subordinate range.
"$(dirname "${BASH_SOURCE[0]}")/ensure-subids.sh" root
report
