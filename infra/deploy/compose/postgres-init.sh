#!/bin/sh
# First start of the stack's PostgreSQL: a role for Temporal (which creates its two databases through
# temporal-sql-tool) and one for Fábrica, owning the warehouse and the inventory databases.
set -eu
temporal_pw=$(cat /run/secrets/temporal_db_password)
fabrica_pw=$(cat /run/secrets/fabrica_db_password)
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v temporal_pw="$temporal_pw" -v fabrica_pw="$fabrica_pw" <<'SQL'
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_pw';
CREATE ROLE fabrica LOGIN PASSWORD :'fabrica_pw';
CREATE DATABASE fabrica OWNER fabrica;
CREATE DATABASE fabrica_inventory OWNER fabrica;
SQL
