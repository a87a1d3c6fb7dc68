#!/bin/sh
# Temporal's schemas on the stack's PostgreSQL, as infra/services/temporal-server.ts sets them up: a database that
# does not exist yet is created with its version tables, then every database is brought to the image's schema.
set -eu
pw=$(cat /run/secrets/temporal_db_password)
schema=/etc/temporal/schema/postgresql/v12
sql() { temporal-sql-tool --plugin postgres12 --ep postgres -p 5432 -u temporal --pw "$pw" "$@"; }
for pair in temporal:temporal temporal_visibility:visibility; do
  db=${pair%%:*}
  if sql --db "$db" create-database; then sql --db "$db" setup-schema -v 0.0; fi
  sql --db "$db" update-schema -d "$schema/${pair#*:}/versioned"
done
echo "temporal schemas ready"
