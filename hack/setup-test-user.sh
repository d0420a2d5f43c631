#!/usr/bin/env bash
# Creates the unprivileged user the e2e tests run dockerd-lite as when they
# are started by root (CI), and gives it /etc/subuid and /etc/subgid ranges
# for the daemon's user namespace. Idempotent: running it again changes
# nothing. Must run as root.
set -euo pipefail

user="${DLTEST_USER:-dltest-e2e}"

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

"$(dirname "${BASH_SOURCE[0]}")/ensure-subids.sh" "$user"
