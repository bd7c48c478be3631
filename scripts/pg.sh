#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster (15, 16 or 17), then removes the cluster.
#   scripts/pg.sh <command> [args…]
# Uses the newest of PostgreSQL 17, 16, 15 found under /usr/lib/postgresql (or PG_BIN); installs
# Debian 12's postgresql-15 if none is (apt, idempotent); starts a cluster in a temp dir on
# a free loopback port (initdb + pg_ctl, as the `postgres` user when run as root), exports
#   TOKENPAIR_TEST_PG_URL=postgres://postgres@127.0.0.1:PORT/postgres
# for the command, and stops and deletes the cluster on every exit path (trap).
set -euo pipefail

find_pg() {
  PG="${PG_BIN:-}"
  [ -n "$PG" ] && return
  local v
  for v in 17 16 15; do
    if [ -x "/usr/lib/postgresql/$v/bin/initdb" ]; then PG="/usr/lib/postgresql/$v/bin"; return; fi
  done
}
find_pg
if [ -z "$PG" ]; then
  if [ "$( . /etc/os-release 2>/dev/null; echo "${ID:-}-${VERSION_ID:-}")" = debian-12 ]; then
    echo "pg.sh: installing postgresql-15 (Debian)…" >&2
    as_root=(); [ "$(id -u)" -eq 0 ] || as_root=(sudo)
    "${as_root[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq postgresql-15 >/dev/null
    find_pg
  fi
fi
[ -n "$PG" ] && [ -x "$PG/initdb" ] || {
  echo "pg.sh: no PostgreSQL 15, 16 or 17 server binaries (initdb, pg_ctl) under /usr/lib/postgresql;" \
    "install one (Debian/Ubuntu: postgresql-15) or point PG_BIN at its bin directory" >&2
  exit 1
}
PG_VERSION="$("$PG/initdb" --version | awk '{print $3}')"

# postgres refuses to run as root: run the cluster as the `postgres` user the package created.
as_pg=()
if [ "$(id -u)" -eq 0 ]; then as_pg=(runuser -u postgres --); fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

DATA="$(mktemp -d -t tokenpair-pg.XXXXXX)"
started=0
cleanup() {
  if [ "$started" = 1 ]; then
    "${as_pg[@]}" "$PG/pg_ctl" -D "$DATA" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$DATA"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -ne 0 ] || chown postgres:postgres "$DATA"
chmod 700 "$DATA"
"${as_pg[@]}" "$PG/initdb" -D "$DATA" --auth=trust -U postgres -E UTF8 --no-sync >"$DATA.initdb.log" 2>&1 ||
  { cat "$DATA.initdb.log" >&2; rm -f "$DATA.initdb.log"; exit 1; }
rm -f "$DATA.initdb.log"
# A throwaway cluster for tests needs no durability (TOKENPAIR_PG_DURABLE=1 keeps PostgreSQL's
# defaults, e.g. for the bench).
durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
[ "${TOKENPAIR_PG_DURABLE:-0}" = 1 ] && durability=""
for attempt in 1 2 3; do
  PORT="$(free_port)"
  if "${as_pg[@]}" "$PG/pg_ctl" -D "$DATA" -l "$DATA/log" -w -t 30 \
      -o "-p $PORT -k $DATA -c listen_addresses=127.0.0.1 -c max_connections=400 $durability" \
      start >/dev/null; then
    started=1; break
  fi
done
[ "$started" = 1 ] || { echo "pg.sh: the cluster did not start:" >&2; cat "$DATA/log" >&2; exit 1; }

export TOKENPAIR_TEST_PG_URL="postgres://postgres@127.0.0.1:$PORT/postgres"
echo "pg.sh: PostgreSQL $PG_VERSION on 127.0.0.1:$PORT (data in $DATA)" >&2
set +e
"$@"
status=$?
set -e
exit $status
