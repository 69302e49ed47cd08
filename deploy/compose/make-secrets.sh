#!/usr/bin/env bash
# Writes the local compose stack's secrets as random values, one file per compose secret, into
# .local/compose-secrets (gitignored) or the folder given as the first argument. Existing files are kept, so
# token-service can still open what it sealed before and Postgres keeps the password its volume was made with;
# delete a file (and, for the database password, the postgres-data volume) to make a new one.
#
#   deploy/compose/make-secrets.sh [dir]
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="${1:-$root/.local/compose-secrets}"
mkdir -p "$dir"
chmod 700 "$dir"

random() { head -c "$1" /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '='; }

# The containers run as uid 1000 and read the files through bind mounts: the files are world-readable, the
# folder that holds them on the host is not.
put() {
  local name="$1" value="$2"
  if [[ -s "$dir/$name" ]]; then return; fi
  (umask 022 && printf '%s' "$value" >"$dir/$name")
  echo "created $dir/$name"
}

put postgres_password "$(random 24)"
put database_url "postgres://qbo:$(cat "$dir/postgres_password")@postgres:5432/qbo"
put qbo_client_secret "$(random 24)"
# One token-service credential per caller (auth-service, sync-service), each allowed only its own operations
# and rotated on its own; token-service's caller table is rewritten from them on every run.
put token_service_credential "$(random 32)"
put sync_service_credential "$(random 32)"
(umask 022 && printf 'auth-service=%s;sync-service=%s' "$(cat "$dir/token_service_credential")" \
  "$(cat "$dir/sync_service_credential")" >"$dir/token_api_callers")
# token-service's key ring, `kid:base64(32 bytes)`, and the id of the key that seals new data keys.
put token_active_key_id local1
put token_keys "$(cat "$dir/token_active_key_id"):$(head -c 32 /dev/urandom | base64 -w0)"
put state_cookie_secret "$(random 32)"
put org_jwt_secret "$(random 32)"
put webhook_verifier_token "$(random 24)"
put grafana_admin_password "$(random 18)"

# Kafka: a CA and the broker's certificate (for `kafka` inside the network and localhost from the host, usable as
# a client too for the controller's mutual TLS), made with openssl. The broker reads PEM: its key and chain in
# one file (kafka_broker_keystore), the CA as its truststore; every client verifies the broker against kafka_ca.
if [[ ! -s "$dir/kafka_ca" || ! -s "$dir/kafka_broker_keystore" ]]; then
  tls="$(mktemp -d)"
  trap 'rm -rf "$tls"' EXIT
  openssl req -x509 -new -noenc -newkey ec -pkeyopt ec_paramgen_curve:P-256 -days 825 \
    -subj /CN=qbo-compose-kafka-ca -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign -keyout "$tls/ca.key" -out "$tls/ca.pem"
  openssl req -new -noenc -newkey ec -pkeyopt ec_paramgen_curve:P-256 -subj /CN=kafka \
    -keyout "$tls/broker.key" -out "$tls/broker.csr"
  openssl x509 -req -in "$tls/broker.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -days 825 -out "$tls/broker.pem" \
    -extfile <(printf '%s\n' 'subjectAltName=DNS:kafka,DNS:localhost,IP:127.0.0.1' \
      'extendedKeyUsage=serverAuth,clientAuth' 'keyUsage=critical,digitalSignature') 2>/dev/null
  # A new CA makes every client's old kafka_ca useless: both files are written together, never one alone.
  (umask 022 && cat "$tls/broker.key" "$tls/broker.pem" "$tls/ca.pem" >"$dir/kafka_broker_keystore" \
    && cp "$tls/ca.pem" "$dir/kafka_ca")
  echo "created $dir/kafka_ca and $dir/kafka_broker_keystore"
fi
# One SCRAM-SHA-512 password per Kafka user: the admin (super user: the broker itself, kafka-setup), each
# service and the lag exporter. Letters, digits, '-' and '_' only: kafka-storage's --add-scram cannot escape.
for user in admin auth-service token-service sync-service webhook-ingest kafka-exporter; do
  put "kafka_password_${user//-/_}" "$(random 24)"
done
