#!/usr/bin/env bash
# Run once by the postgres image on an empty data dir: one role and one database per CharterWatch service
# chain (services/bootstrap.py CHAINS), each role owning its database, all with CHARTERWATCH_DB_PASSWORD.
set -euo pipefail
for chain in access vault intake sla_monitor compensation notify console webhooks; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
       -v role="$chain" -v password="$CHARTERWATCH_DB_PASSWORD" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"role" OWNER :"role";
SQL
done
