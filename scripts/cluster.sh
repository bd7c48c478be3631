#!/usr/bin/env bash
# `make cluster`: tokenpair as a small deployment on this machine —
#   PostgreSQL (a throwaway cluster from scripts/pg.sh, which runs this script),
#   two tokenpair-server instances on one database, and Debian's nginx in front, terminating
#   TLS (HTTP/2) on https://CLUSTER_HOST:CLUSTER_PORT (default https://localhost:8443) with a
#   certificate from a throwaway local CA (scripts/tls-cert.sh), round-robin to the instances.
# The instances trust nginx's X-Forwarded-For (TRUSTED_PROXIES=127.0.0.1) and know their
# public origin (PUBLIC_URL). CLUSTER_HTTP_PORT adds a plain-http listener on 127.0.0.1 (for a
# test proxy in front of nginx). Ctrl-C stops all of it (nginx, both instances here; the
# PostgreSQL cluster in pg.sh's trap).
set -euo pipefail
cd "$(dirname "$0")/.."

: "${TOKENPAIR_TEST_PG_URL:?run me through scripts/pg.sh (make cluster does)}"
SERVER_BIN="${SERVER_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/tokenpair/target}/release/tokenpair-server}"
STATIC_DIR="${STATIC_DIR:-dist}"
FRONT_PORT="${CLUSTER_PORT:-8443}"
HOST_NAME="${CLUSTER_HOST:-localhost}"
HTTP_PORT="${CLUSTER_HTTP_PORT:-}"
if [ "$FRONT_PORT" = 443 ]; then PUBLIC="https://$HOST_NAME"; else PUBLIC="https://$HOST_NAME:$FRONT_PORT"; fi
[ -x "$SERVER_BIN" ] || { echo "cluster: no $SERVER_BIN (make server)" >&2; exit 1; }
[ -f "$STATIC_DIR/index.html" ] || echo "cluster: warning: $STATIC_DIR/index.html is missing (make spa); the API works" >&2
command -v nginx >/dev/null || {
  echo "cluster: installing nginx (Debian)…" >&2
  as_root=(); [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq nginx >/dev/null
}

# CLUSTER_RUN_DIR keeps the instances' logs there (the e2e journey reads them); otherwise a
# temp dir, removed on exit.
if [ -n "${CLUSTER_RUN_DIR:-}" ]; then RUN="$CLUSTER_RUN_DIR"; mkdir -p "$RUN"; keep_run=1
else RUN="$(mktemp -d -t tokenpair-cluster.XXXXXX)"; keep_run=0; fi
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ "$keep_run" = 1 ] || rm -rf "$RUN"
  echo "cluster: stopped" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The certificate for HOST_NAME (and localhost, 127.0.0.1), signed by the local CA.
TLS_DIR="${TOKENPAIR_TLS_DIR:-$HOME/.cache/tokenpair/tls}"
bash scripts/tls-cert.sh "$TLS_DIR" "$HOST_NAME"
CERT="$TLS_DIR/$HOST_NAME.pem" KEY="$TLS_DIR/$HOST_NAME.key"

# One database for both instances (its own name, so clusters can share one PostgreSQL).
PSQL="$(command -v psql || ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -1)"
DB_NAME="tokenpair_$$"
"$PSQL" -q "$TOKENPAIR_TEST_PG_URL" -c "CREATE DATABASE $DB_NAME"
DATABASE_URL="${TOKENPAIR_TEST_PG_URL%/*}/$DB_NAME"
# The plain-http listener's origin may call the cookie endpoints too.
ALLOWED="${ALLOWED_ORIGINS:-}"
[ -z "$HTTP_PORT" ] || ALLOWED="${ALLOWED:+$ALLOWED,}http://127.0.0.1:$HTTP_PORT"
# No ACCESS_TOKEN_SECRET: both instances sign with the Ed25519 keys in the shared database
# (the first to start creates them), so a token issued by one is verified by the other — and
# by anyone, through /.well-known/jwks.json.

start_instance() { # name → sets ADDR to the instance's address once it is ready
  local name="$1" log="$RUN/$1.log"
  : >"$log"
  DATABASE_URL="$DATABASE_URL" DEMO_USERS=1 TRUSTED_PROXIES="${TRUSTED_PROXIES:-127.0.0.1}" \
    PUBLIC_URL="$PUBLIC" ALLOWED_ORIGINS="$ALLOWED" \
    "$SERVER_BIN" --host 127.0.0.1 --port 0 --static-dir "$STATIC_DIR" >"$log" 2>&1 &
  pids+=("$!")
  local pid=$! waited=0
  # The readiness line: "listening on http://127.0.0.1:PORT".
  until grep -q '^listening on http://' "$log"; do
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; echo "cluster: $name exited" >&2; exit 1; }
    sleep 0.05; waited=$((waited + 1))
    [ "$waited" -lt 1200 ] || { cat "$log" >&2; echo "cluster: $name not ready" >&2; exit 1; }
  done
  ADDR="$(sed -n 's#^listening on http://##p' "$log" | head -1)"
}
start_instance a; A="$ADDR"
start_instance b; B="$ADDR"

mkdir -p "$RUN/nginx"
cat >"$RUN/nginx/tokenpair.conf" <<CONF
location / {
    proxy_pass http://tokenpair;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host \$http_host;
    # The client's address, appended to what it sent (the instances read the rightmost
    # untrusted entry), and the scheme it used.
    proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto \$scheme;
    # Which instance answered (to watch the round-robin).
    add_header X-Tokenpair-Instance \$upstream_addr always;
}
CONF
cat >"$RUN/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $RUN/nginx/nginx.pid;
error_log $RUN/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $RUN/nginx/client_body;
    proxy_temp_path $RUN/nginx/proxy;
    fastcgi_temp_path $RUN/nginx/fastcgi;
    uwsgi_temp_path $RUN/nginx/uwsgi;
    scgi_temp_path $RUN/nginx/scgi;
    upstream tokenpair {
        server $A;
        server $B;
        keepalive 16;
    }
    server {
        listen 127.0.0.1:$FRONT_PORT ssl http2;
        server_name $HOST_NAME;
        ssl_certificate $CERT;
        ssl_certificate_key $KEY;
        ssl_protocols TLSv1.2 TLSv1.3;
        include $RUN/nginx/tokenpair.conf;
    }
$( [ -z "$HTTP_PORT" ] || printf '    server {\n        listen 127.0.0.1:%s;\n        include %s;\n    }\n' "$HTTP_PORT" "$RUN/nginx/tokenpair.conf" )
}
CONF
nginx -p "$RUN/nginx" -c "$RUN/nginx/nginx.conf" -g 'daemon off;' &
pids+=("$!")
health() {
  curl -fsS --cacert "$TLS_DIR/ca.pem" --resolve "$HOST_NAME:$FRONT_PORT:127.0.0.1" \
    "$PUBLIC/api/health" >/dev/null
}
for _ in $(seq 100); do health 2>/dev/null && break; sleep 0.05; done
health

cat <<MSG

tokenpair cluster is running at $PUBLIC
  TLS by nginx (HTTP/2), certificate from the local CA $TLS_DIR/ca.pem: trust it in your
  browser, or accept the warning. Another name: CLUSTER_HOST=name (and point it at 127.0.0.1).
$( [ -z "$HTTP_PORT" ] || echo "  plain http for tests: http://127.0.0.1:$HTTP_PORT" )
  nginx (round-robin) → instance a http://$A, instance b http://$B
  database: PostgreSQL ${DATABASE_URL}  (throwaway: gone when you stop)
  demo accounts: user1 / password1, user2 / password2
  every response names its instance in X-Tokenpair-Instance
Ctrl-C stops everything.
MSG
wait -n "${pids[@]}" || true
echo "cluster: a process exited; stopping the rest" >&2
