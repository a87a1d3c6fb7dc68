#!/bin/sh
# The image's entry point: one image runs every Fábrica process, chosen by the first argument.
#   api                 the REST API and dashboard (dist/api/main.js)
#   worker              a worker (FABRICA_WORKER_ROLE picks cloud, edge or all) with the worker's V8 heap budget
#                       (worker/node-flags.ts)
#   fabrica <command>   the CLI, e.g. `fabrica temporal prepare`
#   anything else       run as given
# exec, so the process gets SIGTERM itself and drains. FABRICA_APP_DIR (default /app) lets a test run it from a
# checkout.
set -eu
app="${FABRICA_APP_DIR:-/app}"
command="${1:-api}"
[ "$#" -gt 0 ] && shift
case "$command" in
  api) exec node "$app/dist/api/main.js" "$@" ;;
  worker) exec node --max-old-space-size=256 --max-semi-space-size=8 "$app/dist/worker/main.js" "$@" ;;
  fabrica) exec node "$app/dist/infra/cli/main.js" "$@" ;;
  *) exec "$command" "$@" ;;
esac
