#!/bin/sh
# The lake's bucket, and a MinIO user for Fábrica limited to it (the root credentials stay with MinIO).
set -eu
mc alias set local http://minio:9000 fabrica-root "$(cat /run/secrets/minio_root_password)" >/dev/null
mc mb --ignore-existing local/fabrica
cat > /tmp/fabrica-policy.json <<'JSON'
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":["arn:aws:s3:::fabrica","arn:aws:s3:::fabrica/*"]}]}
JSON
mc admin policy create local fabrica-lake /tmp/fabrica-policy.json >/dev/null 2>&1 || true
mc admin user add local fabrica "$(cat /run/secrets/minio_fabrica_secret)"
mc admin policy attach local fabrica-lake --user fabrica >/dev/null 2>&1 || true
echo "bucket fabrica ready"
