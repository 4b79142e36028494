#!/bin/sh
# SPDX-License-Identifier: MIT
#
# A private nginx on 127.0.0.1 standing in for an OSDF origin: HTTPS,
# WebDAV PUT (parents created), GET and HEAD, and bearer-token auth.
#
#   nginx.sh install          install nginx if it is missing
#   nginx.sh start DIR PORT   start nginx on 127.0.0.1:PORT, state in DIR
#   nginx.sh stop DIR         stop the nginx started in DIR
#
# start writes, in DIR:
#   ca.pem            the self-signed CA that signed the server certificate
#                     (for 127.0.0.1 and localhost)
#   token             the bearer token; requests without
#                     "Authorization: Bearer <token>" get 401
#   data/             the document root PUT writes into
#   url               https://127.0.0.1:PORT/remote, a URL below data/
#   nginx.conf, nginx.pid, error.log, access.log, tmp/, ca.key, server.*
# An existing DIR/token is kept, so a restarted server accepts old tokens.
# Exit status 77 (skip) when nginx (with the dav module) cannot be
# installed; 1 on other failures.
set -eu

NGINX=/usr/sbin/nginx

die() {
	echo "nginx.sh: $*" >&2
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
	if [ ! -x "$NGINX" ]; then
		if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
			echo "nginx.sh: $NGINX missing and cannot be installed" >&2
			exit 77
		fi
		# Debian's policy-rc.d (if any) keeps the packaged service from
		# starting; without it the service may start on port 80.
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
			install -y --no-install-recommends nginx >&2 ||
			{ echo "nginx.sh: apt-get install nginx failed" >&2; exit 77; }
		[ -x "$NGINX" ] || { echo "nginx.sh: no $NGINX after install" >&2; exit 77; }
	fi
	if ! "$NGINX" -V 2>&1 | grep -q -- --with-http_dav_module; then
		echo "nginx.sh: $NGINX has no http_dav_module" >&2
		exit 77
	fi
	command -v openssl >/dev/null 2>&1 ||
		{ echo "nginx.sh: openssl is missing" >&2; exit 77; }
}

make_certs() {
	dir=$1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 30 -subj "/CN=cmffs test CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -subj "/CN=127.0.0.1" \
		-keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
	cat > "$dir/server.ext" <<EOC
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
EOC
	openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" \
		-CAkey "$dir/ca.key" -CAcreateserial -days 30 \
		-extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
	chmod 600 "$dir/ca.key" "$dir/server.key"
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
	case $dir in
	*[!A-Za-z0-9_./-]*) die "DIR '$dir' has characters nginx.conf cannot take" ;;
	esac
	if [ -f "$dir/nginx.pid" ] && alive "$(cat "$dir/nginx.pid")"; then
		die "an nginx is already running from $dir"
	fi
	mkdir -p "$dir/data" "$dir/tmp/body" "$dir/tmp/proxy" \
		"$dir/tmp/fastcgi" "$dir/tmp/uwsgi" "$dir/tmp/scgi"
	make_certs "$dir" || die "openssl failed"
	if [ ! -s "$dir/token" ]; then
		(umask 077 && openssl rand -hex 32 > "$dir/token")
	fi
	token=$(cat "$dir/token")
	case $token in
	''|*[!A-Za-z0-9._~+/=-]*) die "token in $dir/token has unusable characters" ;;
	esac
	user_line=
	if [ "$(id -u)" = 0 ]; then
		# workers must write into DIR/data, which root owns
		user_line="user root root;"
	fi
	cat > "$dir/nginx.conf" <<EOC
$user_line
daemon on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events {
	worker_connections 64;
}
http {
	access_log $dir/access.log;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	default_type application/octet-stream;
	sendfile on;
	server {
		listen 127.0.0.1:$port ssl;
		server_name 127.0.0.1 localhost;
		ssl_certificate $dir/server.pem;
		ssl_certificate_key $dir/server.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		root $dir/data;
		log_not_found off;
		client_max_body_size 0;
		location / {
			if (\$http_authorization != "Bearer $token") {
				add_header WWW-Authenticate 'Bearer realm="cmffs-test"' always;
				return 401;
			}
			dav_methods PUT;
			create_full_put_path on;
			dav_access user:rw group:r all:r;
		}
	}
}
EOC
	rm -f "$dir/nginx.pid"
	: > "$dir/error.log"
	"$NGINX" -e "$dir/error.log" -p "$dir" -t -q -c "$dir/nginx.conf" ||
		die "nginx rejected $dir/nginx.conf"
	# nginx binds, then daemonizes and writes its pid file
	"$NGINX" -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" ||
		{ tail -n 20 "$dir/error.log" >&2; die "nginx failed to start"; }
	i=0
	while :; do
		code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$dir/ca.pem" \
			"https://127.0.0.1:$port/" 2>/dev/null) || code=000
		[ "$code" = 401 ] && break
		i=$((i + 1))
		if [ $i -gt 200 ]; then
			tail -n 20 "$dir/error.log" >&2
			die "nginx does not answer on 127.0.0.1:$port (last status $code)"
		fi
		sleep 0.05
	done
	echo "https://127.0.0.1:$port/remote" > "$dir/url"
}

do_stop() {
	dir=$1
	[ -f "$dir/nginx.pid" ] || return 0
	pid=$(cat "$dir/nginx.pid")
	case $pid in
	''|*[!0-9]*) die "bad pid file $dir/nginx.pid" ;;
	esac
	# SIGQUIT: graceful shutdown of the master and its workers
	if kill -QUIT "$pid" 2>/dev/null; then
		i=0
		while alive "$pid"; do
			i=$((i + 1))
			if [ $i -gt 50 ]; then
				kill -TERM "$pid" 2>/dev/null || true
				break
			fi
			sleep 0.1
		done
	fi
	rm -f "$dir/nginx.pid"
}

case ${1:-} in
install)
	do_install
	;;
start)
	[ $# -eq 3 ] || die "usage: nginx.sh start DIR PORT"
	do_start "$2" "$3"
	;;
stop)
	[ $# -eq 2 ] || die "usage: nginx.sh stop DIR"
	do_stop "$2"
	;;
*)
	echo "usage: nginx.sh install | start DIR PORT | stop DIR" >&2
	exit 2
	;;
esac
