#!/usr/bin/env bash
# Writes a throw-away PKI for TLS tests into DIR: a CA, a server certificate for
# localhost/127.0.0.1, a client certificate (CN given as $2, default "test-client") signed by
# the CA, and a self-signed "rogue" client certificate the CA never issued. EC P-256, valid one day.
set -euo pipefail
dir=$1
cn=${2:-test-client}
cd "$dir"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.crt -subj "/CN=OneWindow Test CA" -days 1 2>/dev/null
openssl req "${ec[@]}" -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 1 -extfile server.ext 2>/dev/null
openssl req "${ec[@]}" -keyout client.key -out client.csr -subj "/CN=$cn" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' > client.ext
openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 1 -extfile client.ext 2>/dev/null
openssl req -x509 "${ec[@]}" -keyout rogue.key -out rogue.crt -subj "/CN=$cn" -days 1 2>/dev/null
