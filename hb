#!/usr/bin/env bash
#
# hb: the two README commands, and what they need on a fresh Debian 12.
#
#   ./hb run [--once]   build, then the demo: local redis + SMTP sink + daemon,
#                       queue config/examples/*.json, show the emails
#   ./hb test           build, then every test (unit, integration, faults,
#                       again under ASan+UBSan, threaded code under TSan)
#   ./hb deps           only install the Debian packages that are missing
#
# Missing packages are installed with apt-get (as root, or through sudo).
# Nothing is installed when everything is already there.
set -euo pipefail

# The one list of Debian packages the project needs to build, test and demo.
PACKAGES=(
	build-essential pkg-config
	libevent-dev libhiredis-dev libesmtp-dev libssl-dev libjansson-dev
	libgmime-3.0-dev libical-dev libinih-dev libsystemd-dev
	libcmocka-dev
	redis-server redis-tools
	python3 python3-aiosmtpd python3-redis openssl
	clang libclang-rt-14-dev llvm-14
	postfix sasl2-bin libsasl2-modules
)

self=$(readlink -f "${BASH_SOURCE[0]}")
cd "$(dirname "$self")"

usage() {
	echo "usage: ./hb run [--once] | ./hb test [MAKE-ARGS...] | ./hb deps" >&2
	exit 64
}

missing_packages() {
	local p status
	for p in "${PACKAGES[@]}"; do
		status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) || status=
		case $status in
		ii*) ;;
		*) echo "$p" ;;
		esac
	done
}

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		echo "hb: need root to install packages (no sudo found); run as root: $*" >&2
		exit 1
	fi
}

deps() {
	local missing
	if ! command -v dpkg-query >/dev/null 2>&1; then
		echo "hb: dpkg-query not found: this script expects Debian 12" >&2
		exit 1
	fi
	mapfile -t missing < <(missing_packages)
	if [ "${#missing[@]}" -eq 0 ]; then
		return 0
	fi
	echo "hb: installing: ${missing[*]}" >&2
	# The relay tests run their own Postfix from a private directory
	# (tests/integration/postfix.py). The system's must stay unconfigured:
	# no main.cf, nothing started, nothing on port 25.
	if printf '%s\n' "${missing[@]}" | grep -qx postfix; then
		echo "postfix postfix/main_mailer_type select No configuration" |
		    as_root debconf-set-selections
	fi
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends \
	    -o Dpkg::Options::=--force-confdef \
	    -o Dpkg::Options::=--force-confold \
	    "${missing[@]}" </dev/null
	mapfile -t missing < <(missing_packages)
	if [ "${#missing[@]}" -ne 0 ]; then
		echo "hb: still missing after apt-get: ${missing[*]}" >&2
		exit 1
	fi
}

ncpu() {
	nproc 2>/dev/null || echo 2
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
deps)
	[ $# -eq 0 ] || usage
	deps
	;;
run)
	for a in "$@"; do
		case $a in
		--once) export HB_DEMO_ONCE=1 ;;
		*) usage ;;
		esac
	done
	deps
	exec make -j"$(ncpu)" run
	;;
test)
	deps
	exec make -j"$(ncpu)" test "$@"
	;;
-h|--help|help)
	sed -n '3,11s/^# \{0,1\}//p' "$self"
	;;
*)
	usage
	;;
esac
