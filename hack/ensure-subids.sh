#!/usr/bin/env bash
# ensure-subids.sh USER: gives USER a 65536-id range in /etc/subuid and
# /etc/subgid unless it has one, starting past every existing range so none
# overlap. Idempotent. Must run as root.
set -euo pipefail

user=$1
count=65536
min_start=100000
uid=$(id -u "$user")

# next_free FILE prints the first start >= min_start past every range in FILE.
next_free() {
	awk -F: -v min="$min_start" '
		NF >= 3 && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ { end = $2 + $3; if (end > max) max = end }
		END { if (max < min) max = min; print max }' "$1"
}

for file in /etc/subuid /etc/subgid; do
	touch "$file"
	if grep -qE "^(${user}|${uid}):" "$file"; then
		continue
	fi
	start=$(next_free "$file")
	echo "${user}:${start}:${count}" >>"$file"
	echo "ensure-subids: added ${user}:${start}:${count} to ${file}"
done
