#!/bin/sh
# Writes the compose stack's secrets into infra/deploy/compose/secrets/ (git-ignored; FABRICA_COMPOSE_SECRETS
# elsewhere), each random, once: an existing file is kept. Prints the admin API key, whose hash goes into api_keys.
set -eu
dir="${FABRICA_COMPOSE_SECRETS:-$(cd "$(dirname "$0")" && pwd)/secrets}"
# The folder is private; the files in it are readable by all, because compose (without Swarm) mounts a file secret
# with the host file's owner and mode, and the containers read them as their own unprivileged users.
umask 077
mkdir -p "$dir"
chmod 700 "$dir"
rand() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
put() { [ -s "$dir/$1" ] || printf '%s' "$2" > "$dir/$1"; }
put postgres_password "$(rand)"
put temporal_db_password "$(rand)"
put fabrica_db_password "$(rand)"
put minio_root_password "$(rand)"
put minio_fabrica_secret "$(rand)"
put session_secret "$(rand)"
fabrica_pw=$(cat "$dir/fabrica_db_password")
put database_url "postgres://fabrica:$fabrica_pw@postgres:5432/fabrica"
put inventory_database_url "postgres://fabrica:$fabrica_pw@postgres:5432/fabrica_inventory"
put aws_credentials "$(printf '[default]\naws_access_key_id = fabrica\naws_secret_access_key = %s\n' "$(cat "$dir/minio_fabrica_secret")")"
if [ ! -s "$dir/api_keys" ]; then
  key="fab_$(rand)"
  printf 'admin:admin:%s\n' "$(printf '%s' "$key" | sha256sum | cut -d' ' -f1)" > "$dir/api_keys"
  echo "admin API key (shown once): $key"
fi
chmod 644 "$dir"/*
echo "secrets in $dir"
