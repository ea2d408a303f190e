#!/usr/bin/env bash
#
# hb: the two README commands, and what they need on a fresh Debian 12.
#
#   ./hb run [--once]   build, then the demo: local redis + SMTP sink + daemon,
#                       queue config/examples/*.json, show the emails
#   ./hb test           build, then every test (unit, integration, faults,
#                       again under ASan+UBSan, threaded code under TSan)
#   ./hb deps [run|test] only install the Debian packages that are missing
#                       (for the demo, or for the tests too; default test)
#
# Missing packages are installed with apt-get (as root, or through sudo).
# Nothing is installed when everything is already there.
set -euo pipefail

# What the demo needs (./hb run): build, and run it with a local Redis and
# the standard-library SMTP sink (tests/smtp_sink.py).
DEMO_PACKAGES=(
	build-essential pkg-config
	libevent-dev libhiredis-dev libesmtp-dev libssl-dev libjansson-dev
	libgmime-3.0-dev libical-dev libinih-dev libsystemd-dev libcsv-dev
	redis-server redis-tools
	python3
)
# What the tests add (./hb test): cmocka; the harness's SMTP server and
# Redis client; certificates; the fuzzers and sanitizers (clang, LLVM);
# a real relay (Postfix, SASL); the man page lint (mandoc); and
# systemd-analyze and setpriv for the install tests (systemd, util-linux:
# they work without systemd running), and /bin/kill (procps), which the
# unit's ExecReload names and systemd-analyze verify looks for; a TLS
# tunnel in front of Redis (stunnel4); Lua 5.1, which Redis embeds, for
# the fuzz target of forget's matcher (liblua5.1-0-dev); and what a person reads, checked in
# a real browser: Debian's chromium, driven from Node.js (tests/browser,
# whose npm packages `browser_deps` installs from its lock file).
TEST_PACKAGES=(
	libcmocka-dev
	python3-aiosmtpd python3-redis openssl
	clang libclang-rt-14-dev llvm-14
	postfix sasl2-bin libsasl2-modules
	mandoc
	systemd util-linux procps
	stunnel4 liblua5.1-0-dev
	chromium fonts-dejavu-core nodejs npm
)
PACKAGES=()

self=$(readlink -f "${BASH_SOURCE[0]}")
cd "$(dirname "$self")"

usage() {
	echo "usage: ./hb run [--once] | ./hb test [MAKE-ARGS...] | ./hb deps [run|test]" >&2
	exit 64
}

missing_packages() {
	local p status
	for p in "${PACKAGES[@]}"; do
		# A Node.js from elsewhere (NodeSource's) carries its own npm,
		# and Debian's npm package would conflict with it.
		if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then
			continue
		fi
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

# deps run|test: what the demo needs, or that and what the tests add.
deps() {
	local missing
	PACKAGES=("${DEMO_PACKAGES[@]}")
	if [ "${1:-test}" = test ]; then
		PACKAGES+=("${TEST_PACKAGES[@]}")
	fi
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

# The browser checks' npm packages (puppeteer-core, axe-core), exactly as
# tests/browser/package-lock.json pins them; puppeteer downloads no browser
# of its own: the tests use Debian's chromium.
browser_deps() {
	local d=tests/browser
	# npm ci writes node_modules/.package-lock.json last.
	if [ "$d/node_modules/.package-lock.json" -nt "$d/package-lock.json" ]; then
		return 0
	fi
	echo "hb: installing the browser checks' npm packages (tests/browser)" >&2
	(cd "$d" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund \
	    --loglevel=error)
}

ncpu() {
	nproc 2>/dev/null || echo 2
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
deps)
	case ${1:-test} in
	run|test) ;;
	*) usage ;;
	esac
	[ $# -le 1 ] || usage
	deps "${1:-test}"
	if [ "${1:-test}" = test ]; then
		browser_deps
	fi
	;;
run)
	for a in "$@"; do
		case $a in
		--once) export HB_DEMO_ONCE=1 ;;
		*) usage ;;
		esac
	done
	deps run
	exec make -j"$(ncpu)" run
	;;
test)
	deps test
	browser_deps
	exec make -j"$(ncpu)" test "$@"
	;;
-h|--help|help)
	sed -n '3,13s/^# \{0,1\}//p' "$self"
	;;
*)
	usage
	;;
esac
