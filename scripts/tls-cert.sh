#!/usr/bin/env bash
# A throwaway local certificate authority and a server certificate signed by it, made with
# openssl (no internet): scripts/tls-cert.sh DIR HOST
#   DIR/ca.pem, DIR/ca.key         the CA (made once; trust ca.pem in a browser to skip warnings)
#   DIR/HOST.pem, DIR/HOST.key     a certificate for HOST, localhost and 127.0.0.1 (remade when
#                                  missing, older than the CA, or within 30 days of expiry)
# Used by scripts/cluster.sh (nginx) and the e2e TLS journey. Idempotent.
set -euo pipefail
DIR="${1:?usage: $0 DIR HOST}"
HOST="${2:?usage: $0 DIR HOST}"
case "$HOST" in *[!A-Za-z0-9.-]*) echo "tls-cert: $HOST is not a host name" >&2; exit 2 ;; esac
command -v openssl >/dev/null || { echo "tls-cert: openssl is needed (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$DIR"
chmod 700 "$DIR"

if [ ! -s "$DIR/ca.pem" ] || [ ! -s "$DIR/ca.key" ]; then
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -keyout "$DIR/ca.key" -out "$DIR/ca.pem" -days 3650 \
    -subj "/CN=tokenpair local test CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  echo "tls-cert: made a local CA in $DIR/ca.pem" >&2
fi

cert="$DIR/$HOST.pem" key="$DIR/$HOST.key"
if [ -s "$cert" ] && [ -s "$key" ] && [ "$cert" -nt "$DIR/ca.pem" ] &&
  openssl x509 -in "$cert" -noout -checkend $((30 * 86400)) >/dev/null 2>&1; then
  exit 0
fi
san="DNS:$HOST,IP:127.0.0.1"; [ "$HOST" = localhost ] || san="DNS:localhost,$san"
ext="$(mktemp)"
trap 'rm -f "$ext" "$DIR/$HOST.csr"' EXIT
printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
  "extendedKeyUsage=serverAuth" "subjectAltName=$san" >"$ext"
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
  -keyout "$key" -out "$DIR/$HOST.csr" -subj "/CN=$HOST" 2>/dev/null
openssl x509 -req -in "$DIR/$HOST.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca.key" \
  -CAcreateserial -out "$cert" -days 365 -extfile "$ext" 2>/dev/null
chmod 600 "$key"
echo "tls-cert: made a certificate for $san in $cert" >&2
