#!/usr/bin/env bash
# The compose broker's start: the image's own start cannot add SCRAM users when it formats the storage, so this
# does it. Writes the broker's properties (admin password filled in) and the admin's client properties (for the
# healthcheck) to /tmp, formats the storage with one SCRAM-SHA-512 user per password file on first start (kept
# by the volume-less container on a restart: --ignore-formatted), then runs the broker in the foreground.
set -euo pipefail

secrets=/run/secrets
users=(admin auth-service token-service sync-service webhook-ingest kafka-exporter)
password() { cat "$secrets/kafka_password_${1//-/_}"; }

umask 077
admin_password="$(password admin)"
sed "s|@ADMIN_PASSWORD@|$admin_password|" /opt/qbo/kafka/server.properties >/tmp/server.properties
cat >/tmp/admin.properties <<PROPERTIES
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin_password";
ssl.truststore.type=PEM
ssl.truststore.location=$secrets/kafka_ca
PROPERTIES

scram=()
for user in "${users[@]}"; do scram+=(--add-scram "SCRAM-SHA-512=[name=$user,password=$(password "$user")]"); done
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id "$CLUSTER_ID" \
  --config /tmp/server.properties "${scram[@]}" >/dev/null
exec /opt/kafka/bin/kafka-server-start.sh /tmp/server.properties
