#!/usr/bin/env bash
# Creates the unprivileged user the e2e tests run dockerd-lite as when they
# are started by root (CI), and gives it /etc/subuid and /etc/subgid ranges
# for the daemon's user namespace. Idempotent: running it again changes
# nothing. Must run as root.
set -euo pipefail

user="${DLTEST_USER:-dltest-e2e}"
count=65536
min_start=100000

if [[ $(id -u) -ne 0 ]]; then
	echo "setup-test-user: must run as root (it creates user ${user})" >&2
	exit 1
fi

if ! id -u "$user" >/dev/null 2>&1; then
	useradd --create-home --shell /bin/bash --comment "dockerd-lite e2e tests" "$user"
	echo "setup-test-user: created user ${user}"
fi
home=$(getent passwd "$user" | cut -d: -f6)
mkdir -p "$home"
chown "$user:" "$home"
uid=$(id -u "$user")

# next_free FILE prints the first start >= min_start past every range in FILE,
# so the new range overlaps none of them.
next_free() {
	awk -F: -v min="$min_start" '
		NF >= 3 && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ { end = $2 + $3; if (end > max) max = end }
		END { if (max < min) max = min; print max }' "$1"
}

# ensure_range FILE adds "user:start:count" unless the user (by name or uid)
# already has a range there.
ensure_range() {
	local file=$1 start
	touch "$file"
	if grep -qE "^(${user}|${uid}):" "$file"; then
		echo "setup-test-user: ${file} already has a range for ${user}"
		return
	fi
	start=$(next_free "$file")
	echo "${user}:${start}:${count}" >>"$file"
	echo "setup-test-user: added ${user}:${start}:${count} to ${file}"
}

ensure_range /etc/subuid
ensure_range /etc/subgid
