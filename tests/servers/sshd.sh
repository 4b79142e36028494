#!/bin/sh
# SPDX-License-Identifier: MIT
#
# A private OpenSSH sshd on 127.0.0.1 for the SFTP storage tests.
#
#   sshd.sh install          install openssh-server if sshd is missing
#   sshd.sh start DIR PORT   start sshd on 127.0.0.1:PORT, state in DIR
#   sshd.sh stop DIR         stop the sshd started in DIR
#
# start makes fresh ed25519 keys (libssh2 1.10, which libcurl uses, cannot
# sign with RSA keys against OpenSSH >= 8.8), lets the current user in with
# DIR/client_key only, and writes, in DIR:
#   client_key, client_key.pub   the client key pair (no passphrase)
#   host_key_sha256              base64 SHA256 of the host key, without the
#                                "SHA256:" prefix, as `ssh-keygen -lf` prints
#   remote/                      an empty directory to use as the remote
#   url                          ssh://USER@127.0.0.1:PORT/DIR/remote
#   sshd.pid, sshd.log, sshd_config, host_key
# Exit status 77 (skip) when sshd cannot be installed; 1 on other failures.
set -eu

SSHD=/usr/sbin/sshd

die() {
	echo "sshd.sh: $*" >&2
	exit 1
}

# Is @1 running?  A zombie is not: this machine's init may reap late.
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) ||
		return 0
	[ "$state" != Z ]
}

do_install() {
	if [ -x "$SSHD" ]; then
		return 0
	fi
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		echo "sshd.sh: $SSHD missing and cannot be installed" >&2
		exit 77
	fi
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
		install -y --no-install-recommends openssh-server >&2 ||
		{ echo "sshd.sh: apt-get install openssh-server failed" >&2; exit 77; }
	[ -x "$SSHD" ] || { echo "sshd.sh: no $SSHD after install" >&2; exit 77; }
}

do_start() {
	dir=$1
	port=$2
	case $port in
	''|*[!0-9]*) die "bad port '$port'" ;;
	esac
	do_install
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [ -f "$dir/sshd.pid" ] && alive "$(cat "$dir/sshd.pid")"; then
		die "an sshd is already running from $dir"
	fi
	user=$(id -un)
	rm -f "$dir/host_key" "$dir/host_key.pub" "$dir/client_key" \
		"$dir/client_key.pub" "$dir/sshd.pid"
	ssh-keygen -q -t ed25519 -N '' -C cmffs-test-host -f "$dir/host_key"
	ssh-keygen -q -t ed25519 -N '' -C cmffs-test-client -f "$dir/client_key"
	cp "$dir/client_key.pub" "$dir/authorized_keys"
	chmod 600 "$dir/authorized_keys"
	mkdir -p "$dir/remote"
	cat > "$dir/sshd_config" <<EOC
Port $port
ListenAddress 127.0.0.1
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
AllowUsers $user
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
EOC
	# privilege separation directory, only needed (and creatable) as root
	if [ "$(id -u)" = 0 ]; then
		mkdir -p /run/sshd
		chmod 755 /run/sshd
	fi
	"$SSHD" -t -f "$dir/sshd_config" || die "sshd rejected $dir/sshd_config"
	: > "$dir/sshd.log"
	# Not sshd's own daemon mode: it exits 0 even when it cannot bind.
	# With -D in its own session (setsid does not fork here: without job
	# control a background child is no process-group leader), $! is
	# sshd, and its death is noticed at once.  It writes its pid file
	# once it listens.
	setsid "$SSHD" -D -f "$dir/sshd_config" -E "$dir/sshd.log" \
		</dev/null >/dev/null 2>&1 &
	pid=$!
	i=0
	while [ ! -s "$dir/sshd.pid" ]; do
		i=$((i + 1))
		if ! alive "$pid" || [ $i -gt 100 ]; then
			kill "$pid" 2>/dev/null || true
			cat "$dir/sshd.log" >&2
			die "sshd did not start"
		fi
		sleep 0.05
	done
	ssh-keygen -l -E sha256 -f "$dir/host_key.pub" |
		awk '{ sub(/^SHA256:/, "", $2); print $2 }' > "$dir/host_key_sha256"
	[ -s "$dir/host_key_sha256" ] || die "no host key fingerprint"
	echo "ssh://$user@127.0.0.1:$port$dir/remote" > "$dir/url"
}

do_stop() {
	dir=$1
	[ -f "$dir/sshd.pid" ] || return 0
	pid=$(cat "$dir/sshd.pid")
	case $pid in
	''|*[!0-9]*) die "bad pid file $dir/sshd.pid" ;;
	esac
	if kill "$pid" 2>/dev/null; then
		i=0
		while alive "$pid"; do
			i=$((i + 1))
			if [ $i -gt 50 ]; then
				kill -9 "$pid" 2>/dev/null || true
				break
			fi
			sleep 0.1
		done
	fi
	rm -f "$dir/sshd.pid"
}

case ${1:-} in
install)
	do_install
	;;
start)
	[ $# -eq 3 ] || die "usage: sshd.sh start DIR PORT"
	do_start "$2" "$3"
	;;
stop)
	[ $# -eq 2 ] || die "usage: sshd.sh stop DIR"
	do_stop "$2"
	;;
*)
	echo "usage: sshd.sh install | start DIR PORT | stop DIR" >&2
	exit 2
	;;
esac
