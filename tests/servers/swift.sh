#!/bin/bash
# SPDX-License-Identifier: MIT
#
# OpenStack Swift with the s3api middleware on loopback: a strict S3 server
# for tests (it checks SigV4 signatures and x-amz-content-sha256).
#
#   swift.sh install            install the Debian packages if missing
#   swift.sh start DIR PORT     configure DIR (once) and start Swift; the S3
#                               endpoint is http://127.0.0.1:PORT
#   swift.sh stop DIR           stop what `start DIR` started
#
# Credentials: access key "test:tester" (it contains a colon), secret
# "testing", region us-east-1, path-style URLs.  Rings and configuration
# are built once per DIR and reused while PORT and the internal ports stay
# the same; data lives in DIR/srv, logs in DIR/log, pid files in DIR/run.
# The object, container and account servers and memcached (optional) use
# free ports found upward from PORT+1.
#
# Exit status: 0 on success, 77 when Swift is not installed and cannot be
# installed (the test-suite "skip" code), 1 on any other failure.
# See /work/shared/spec/test-servers.md section 1.1.
set -euo pipefail

PACKAGES=(swift swift-proxy swift-account swift-container swift-object
	  memcached)
SWIFT_CONF=/etc/swift/swift.conf

die() {
	echo "swift.sh: $*" >&2
	exit 1
}

skip() {
	echo "swift.sh: $* (skipping)" >&2
	exit 77
}

usage() {
	echo "usage: swift.sh install | start DIR PORT | stop DIR" >&2
	exit 2
}

installed() {
	command -v swift-proxy-server >/dev/null &&
		command -v swift-object-server >/dev/null &&
		command -v swift-container-server >/dev/null &&
		command -v swift-account-server >/dev/null &&
		command -v swift-ring-builder >/dev/null
}

# Install the packages when missing; return 1 (not exit) if impossible.
do_install() {
	local sudo=""

	installed && command -v memcached >/dev/null && return 0
	command -v apt-get >/dev/null || return 1
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null && sudo -n true 2>/dev/null ||
			return 1
		sudo="sudo -n"
	fi
	echo "swift.sh: installing ${PACKAGES[*]}" >&2
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q \
		--no-install-recommends "${PACKAGES[@]}" >&2 || {
		# the package lists may be stale or absent on a fresh machine
		$sudo apt-get update -q >&2 &&
			DEBIAN_FRONTEND=noninteractive $sudo apt-get install \
				-y -q --no-install-recommends "${PACKAGES[@]}" >&2
	} || return 1
	installed
}

# Swift reads the hash path prefix/suffix from this fixed path; Debian's
# package ships a usable one.  Write the same content if it is missing.
ensure_swift_conf() {
	[ -f "$SWIFT_CONF" ] && return 0
	[ "$(id -u)" -eq 0 ] || return 1
	mkdir -p "${SWIFT_CONF%/*}"
	cat > "$SWIFT_CONF" <<-EOF
	[swift-hash]
	swift_hash_path_suffix = changeme
	swift_hash_path_prefix = changeme
	[storage-policy:0]
	name = Policy-0
	default = yes
	EOF
}

# True if something accepts TCP connections on 127.0.0.1:$1.
port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

valid_port() {
	[[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 65535 ]
}

# Print 4 free ports above $1, for object, container, account, memcached.
pick_ports() {
	local p=$(($1 + 1)) found=()

	while [ ${#found[@]} -lt 4 ]; do
		[ $p -le 65535 ] || return 1
		port_busy $p || found+=($p)
		p=$((p + 1))
	done
	echo "${found[@]}"
}

alive() {
	local f=$1

	[ -s "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

healthy() {
	local url="http://127.0.0.1:$1/healthcheck"

	if command -v curl >/dev/null; then
		curl -sf -m 2 -o /dev/null "$url"
	else
		port_busy "$1"
	fi
}

# Write the server configs and build the rings in $B for the ports given.
configure() {
	local B=$1 proxy=$2 obj=$3 cont=$4 acc=$5 mc=$6
	local user name port

	user=$(id -un)
	rm -rf "$B/etc" "$B/srv"
	mkdir -p "$B/etc" "$B/srv/d1" "$B/log" "$B/run"
	for s in object:$obj container:$cont account:$acc; do
		name=${s%%:*}
		port=${s##*:}
		cat > "$B/etc/$name-server.conf" <<-EOF
		[DEFAULT]
		devices = $B/srv
		mount_check = false
		disable_fallocate = true
		bind_ip = 127.0.0.1
		bind_port = $port
		workers = 0
		swift_dir = $B/etc
		user = $user
		log_level = WARNING
		[pipeline:main]
		pipeline = $name-server
		[app:$name-server]
		use = egg:swift#$name
		EOF
		(
			cd "$B/etc"
			swift-ring-builder $name.builder create 8 1 1 >/dev/null
			swift-ring-builder $name.builder add \
				r1z1-127.0.0.1:$port/d1 1 >/dev/null
			# exits 1 on warnings (a single device is one)
			swift-ring-builder $name.builder rebalance \
				>/dev/null || true
		)
		[ -f "$B/etc/$name.ring.gz" ] ||
			die "could not build the $name ring in $B/etc"
	done
	cat > "$B/etc/proxy-server.conf" <<-EOF
	[DEFAULT]
	bind_ip = 127.0.0.1
	bind_port = $proxy
	workers = 0
	swift_dir = $B/etc
	user = $user
	log_level = INFO
	[pipeline:main]
	pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl s3api tempauth copy slo dlo versioned_writes symlink proxy-logging proxy-server
	[app:proxy-server]
	use = egg:swift#proxy
	allow_account_management = true
	account_autocreate = true
	[filter:s3api]
	use = egg:swift#s3api
	location = us-east-1
	[filter:tempauth]
	use = egg:swift#tempauth
	user_test_tester = testing .admin
	[filter:cache]
	use = egg:swift#memcache
	memcache_servers = 127.0.0.1:$mc
	[filter:catch_errors]
	use = egg:swift#catch_errors
	[filter:gatekeeper]
	use = egg:swift#gatekeeper
	[filter:healthcheck]
	use = egg:swift#healthcheck
	[filter:proxy-logging]
	use = egg:swift#proxy_logging
	[filter:listing_formats]
	use = egg:swift#listing_formats
	[filter:bulk]
	use = egg:swift#bulk
	[filter:tempurl]
	use = egg:swift#tempurl
	[filter:copy]
	use = egg:swift#copy
	[filter:slo]
	use = egg:swift#slo
	[filter:dlo]
	use = egg:swift#dlo
	[filter:versioned_writes]
	use = egg:swift#versioned_writes
	[filter:symlink]
	use = egg:swift#symlink
	EOF
	echo "$proxy $obj $cont $acc $mc" > "$B/etc/ports"
}

do_stop() {
	local B=$1 f pid i

	[ -d "$B/run" ] || return 0
	for f in "$B"/run/*.pid; do
		[ -e "$f" ] || continue
		alive "$f" && kill "$(cat "$f")" 2>/dev/null || true
	done
	for i in $(seq 1 100); do
		local left=0
		for f in "$B"/run/*.pid; do
			[ -e "$f" ] || continue
			alive "$f" && left=1
		done
		[ $left -eq 0 ] && break
		sleep 0.1
	done
	for f in "$B"/run/*.pid; do
		[ -e "$f" ] || continue
		if alive "$f"; then
			pid=$(cat "$f")
			echo "swift.sh: pid $pid ignored SIGTERM, killing" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
		rm -f "$f"
	done
}

# Start one daemon in the background, detached from our stdio so that a
# caller reading our output does not wait for the daemon.
spawn() {
	local B=$1 name=$2

	shift 2
	"$@" < /dev/null > "$B/log/$name.log" 2>&1 &
	echo $! > "$B/run/$name.pid"
}

do_start() {
	local B=$1 proxy=$2 ports obj cont acc mc i s t0

	valid_port "$proxy" || die "bad port '$proxy'"
	if ! installed; then
		do_install || skip "swift is not installed and cannot be installed"
	fi
	ensure_swift_conf || skip "$SWIFT_CONF is missing"
	mkdir -p "$B"
	B=$(cd "$B" && pwd)

	if alive "$B/run/proxy.pid" && healthy "$proxy"; then
		echo "swift.sh: already running on 127.0.0.1:$proxy" >&2
		return 0
	fi
	do_stop "$B"		# leftovers of a half-dead earlier start
	port_busy "$proxy" && die "port $proxy is in use"

	t0=$SECONDS
	ports=""
	if [ -f "$B/etc/ports" ] && [ -f "$B/etc/object.ring.gz" ] &&
	   [ -f "$B/etc/container.ring.gz" ] &&
	   [ -f "$B/etc/account.ring.gz" ]; then
		read -r p o c a m < "$B/etc/ports"
		if [ "$p" = "$proxy" ] && ! port_busy "$o" &&
		   ! port_busy "$c" && ! port_busy "$a"; then
			ports="$o $c $a $m"
		fi
	fi
	if [ -z "$ports" ]; then
		ports=$(pick_ports "$proxy") || die "no free ports above $proxy"
		# shellcheck disable=SC2086
		configure "$B" "$proxy" $ports
		echo "swift.sh: configured $B in $((SECONDS - t0)) s" >&2
	fi
	read -r obj cont acc mc <<< "$ports"
	mkdir -p "$B/log" "$B/run"

	# memcached is optional: every S3 call works without it
	if command -v memcached >/dev/null && ! port_busy "$mc"; then
		spawn "$B" memcached memcached -l 127.0.0.1 -p "$mc" -U 0 \
			-m 64 -u "$(id -un)"
	fi
	for s in object container account; do
		spawn "$B" $s swift-$s-server "$B/etc/$s-server.conf" -v
	done
	spawn "$B" proxy swift-proxy-server "$B/etc/proxy-server.conf" -v

	for i in $(seq 1 600); do
		if healthy "$proxy" && port_busy "$obj" && port_busy "$cont" &&
		   port_busy "$acc"; then
			echo "swift.sh: up on 127.0.0.1:$proxy in $((SECONDS - t0)) s" >&2
			return 0
		fi
		for s in object container account proxy; do
			alive "$B/run/$s.pid" && continue
			tail -n 20 "$B/log/$s.log" >&2 || true
			do_stop "$B"
			die "swift-$s-server exited"
		done
		sleep 0.1
	done
	tail -n 20 "$B"/log/*.log >&2 || true
	do_stop "$B"
	die "swift did not come up on 127.0.0.1:$proxy within 60 s"
}

case "${1:-}" in
install)
	[ $# -eq 1 ] || usage
	do_install || skip "cannot install ${PACKAGES[*]}"
	;;
start)
	[ $# -eq 3 ] || usage
	do_start "$2" "$3"
	;;
stop)
	[ $# -eq 2 ] || usage
	do_stop "$2"
	;;
*)
	usage
	;;
esac
