# A release server for tests (bash, sourced after tests/integration/lib.bash):
# a throwaway CA made with openssl, Debian's nginx serving $SRV/www over
# HTTPS on loopback as "releases.test" (a DNS SAN: mbedTLS 2.28 cannot
# verify IP SANs, so the agent pins the name with OUTPOST_TEST_RESOLVE), a
# second server block that requires client certificates, and a report
# receiver. No root needed: nginx runs with its own prefix, config, pid and
# logs under $SRV, in the foreground, as a child of the test.
#
#   srv_need_nginx           end the test (failed) when nginx is missing
#   srv_init                 certificates, config, publisher key and root
#                            (also published as roots/1.root.yaml)
#   srv_start / srv_stop     nginx (SRV_PORT: HTTPS, SRV_MTLS_PORT: mTLS,
#                            SRV_HTTP_PORT: plain HTTP, for comparisons)
#   recv_start               the receiver (RECV_PORT, reports in $SRV/reports)
#   publish APP SEQ DIR [release create options...]
#                            pack DIR as APP's bundle SEQ and point
#                            channels/APP at it
#   srv_log                  nginx's access log: status method uri
#                            request_length bytes_sent body_bytes "range" "inm"
#
# Every process started here is stopped by the EXIT trap (srv_trap).

SRV=$TMP/srv

WWW=$SRV/www/fleet
NGINXPID= RECVPID=

# srv_need_nginx: end the test as failed, saying why, when nginx is missing
srv_need_nginx() {
	command -v nginx >/dev/null 2>&1 && return 0
	echo "# nginx is missing: run tests/bootstrap.sh (Debian package nginx)"
	echo "0 passed, 1 failed"
	exit 1
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

srv_trap() {
	trap 'kill $NGINXPID $RECVPID $SIMPID 2>/dev/null; wait 2>/dev/null; cd /; rm -rf "$TMP"' EXIT
}

srv_certs() {
	local d=$SRV
	openssl ecparam -name prime256v1 -genkey -noout -out "$d/ca.key"
	openssl req -x509 -new -key "$d/ca.key" -subj /CN=outpost-test-ca -days 2 \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" -out "$d/ca.crt"
	for who in server client; do
		local cn=releases.test ext="subjectAltName=DNS:releases.test
extendedKeyUsage=serverAuth"
		if [ $who = client ]; then
			cn=gw-test ext="extendedKeyUsage=clientAuth"
		fi
		openssl ecparam -name prime256v1 -genkey -noout -out "$d/$who.key"
		openssl req -new -key "$d/$who.key" -subj "/CN=$cn" -out "$d/$who.csr"
		printf '%s\nbasicConstraints=CA:FALSE\n' "$ext" > "$d/$who.ext"
		openssl x509 -req -in "$d/$who.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
			-CAcreateserial -days 2 -extfile "$d/$who.ext" -out "$d/$who.crt"
	done
	chmod 600 "$d"/*.key
} >/dev/null 2>&1

srv_conf() {
	local user=
	[ "$(id -u)" -eq 0 ] && user="user root;"   # workers read $TMP (0700)
	mkdir -p "$SRV/tmp"
	cat > "$SRV/nginx.conf" <<CONF
daemon off;
$user
worker_processes 1;
pid $SRV/nginx.pid;
error_log $SRV/error.log info;
events { worker_connections 64; }
http {
    default_type application/octet-stream;
    types { application/yaml yaml; }
    server_tokens off;
    keepalive_timeout 5;
    log_format wire '\$status \$request_method \$uri \$request_length \$bytes_sent '
                    '\$body_bytes_sent "\$http_range" "\$http_if_none_match"';
    access_log $SRV/access.log wire;
    client_body_temp_path $SRV/tmp/body;
    proxy_temp_path $SRV/tmp/proxy;
    fastcgi_temp_path $SRV/tmp/fastcgi;
    uwsgi_temp_path $SRV/tmp/uwsgi;
    scgi_temp_path $SRV/tmp/scgi;
    ssl_certificate $SRV/server.crt;
    ssl_certificate_key $SRV/server.key;
    ssl_ecdh_curve ${SRV_CURVES:-auto};
    ssl_session_cache shared:outpost:1m;
    ssl_session_timeout 4h;

    server {
        listen 127.0.0.1:$SRV_PORT ssl;
        listen 127.0.0.1:$SRV_HTTP_PORT;
        server_name releases.test;
        root $SRV/www;
        # pointers change: always revalidate (ETag / Last-Modified -> 304)
        location /fleet/channels/ { add_header Cache-Control "no-cache"; }
        # the chain of roots: a version is written once, but the next one
        # is asked for (404) until it is published
        location /fleet/roots/ { add_header Cache-Control "no-cache"; }
        # bundles never change once published
        location /fleet/bundles/ {
            add_header Cache-Control "public, max-age=31536000, immutable";
        }
        # the same repository, served slowly (a download long enough to cut)
        location /slow/ { alias $SRV/www/fleet/; limit_rate ${SLOW_RATE:-40k}; }
        # bundles trickled a byte at a time (slow-retrieval attack)
        location /trickle/bundles/ { alias $SRV/www/fleet/bundles/; limit_rate 1; }
        location /trickle/ { alias $SRV/www/fleet/; }
        location /fail/ { return 500; }
        location /busy/ { add_header Retry-After 120 always; return 429; }
    }
    server {
        listen 127.0.0.1:$SRV_MTLS_PORT ssl;
        server_name releases.test;
        ssl_client_certificate $SRV/ca.crt;
        ssl_verify_client on;
        root $SRV/www;
    }
}
CONF
}

srv_init() {
	mkdir -p "$SRV" "$WWW/channels" "$WWW/bundles"
	SRV_PORT=$(free_port)
	SRV_MTLS_PORT=$(free_port)
	SRV_HTTP_PORT=$(free_port)
	srv_certs
	srv_conf
	srv_trap
	$OUTPOST keygen -o "$SRV/signer" >/dev/null 2>&1
	$OUTPOST root init --key "$SRV/signer.key" -o "$SRV/root.yaml" >/dev/null 2>&1
	cp "$SRV/root.yaml" "$SRV/root.yaml.sig" "$SRV/www/fleet/" 2>/dev/null
	$OUTPOST root publish "$SRV/root.yaml" -o "$WWW/roots" >/dev/null 2>&1
}

# Wait until a TCP port on loopback accepts connections (or 5 s).
wait_port() {
	for _ in $(seq 50); do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.2)" \
			2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

srv_start() {
	nginx -e "$SRV/error.log" -p "$SRV" -c "$SRV/nginx.conf" 2>>"$SRV/error.log" &
	NGINXPID=$!
	wait_port "$SRV_PORT" && wait_port "$SRV_MTLS_PORT"
}

srv_stop() {
	[ -n "$NGINXPID" ] || return 0
	kill "$NGINXPID" 2>/dev/null
	wait "$NGINXPID" 2>/dev/null
	NGINXPID=
}

recv_start() {
	python3 "$ROOT/tests/server/receiver.py" "$SRV/reports" >"$SRV/receiver.log" 2>&1 &
	RECVPID=$!
	for _ in $(seq 50); do [ -f "$SRV/reports/port" ] && break; sleep 0.1; done
	RECV_PORT=$(cat "$SRV/reports/port")
}

# stamp FILE: a modification time of its own. nginx's ETag and
# Last-Modified come from the size and the mtime in seconds, so a pointer
# rewritten within the same second at the same size would look unchanged.
STAMPS=0
stamp() {
	STAMPS=$((STAMPS + 1))
	touch -m -d "@$(($(date +%s) - 100000 + STAMPS))" "$1"
}

publish() { # APP SEQ DIR [release create options...]
	local app=$1 seq=$2 dir=$3
	shift 3
	mkdir -p "$WWW/channels/$app"
	$OUTPOST bundle pack --app "$app" --version "$app-v$seq" --sequence "$seq" "$dir" \
		-o "$WWW/bundles/$app-$seq.bundle" --key "$SRV/signer.key" \
		--health-timeout 20 >/dev/null 2>&1 &&
	$OUTPOST release create --bundle "$WWW/bundles/$app-$seq.bundle" \
		--url "../../bundles/$app-$seq.bundle" -o "$WWW/channels/$app/release.yaml" \
		--key "$SRV/signer.key" "$@" >/dev/null 2>&1 &&
	stamp "$WWW/channels/$app/release.yaml"
}

srv_log() { cat "$SRV/access.log" 2>/dev/null; }
