/** The `fabrica` command's usage text (local stack commands and the REST client). */
export const USAGE = `usage: fabrica <command> [options]

local stack:
  dev                     bring up the local stack (Temporal, PostgreSQL, worker, API) and the demo
  generate machine-files  write machine signal files and their ground truth (see --help)
  tools                   build the cached Go tools (Temporal CLI and server, temporal-sql-tool, MinIO, Helm,
                          kubeconform) if missing
  temporal prepare        register $TEMPORAL_NAMESPACE and Fábrica's search attributes on $TEMPORAL_ADDRESS
  bundle-workflows <file> write the workflow bundle a worker loads from $FABRICA_WORKFLOW_BUNDLE

API client:
  pipelines [id]
  runs start <pipeline> <partition> [--force]
  runs get <runId>
  runs list [--pipeline P] [--status S] [--partition K] [--page N]
  runs cancel <runId>
  backfills start <pipeline> --from YYYY-MM-DDTHH --to YYYY-MM-DDTHH [--machines M01,M02]
                  [--max-concurrency N] [--mode all|missing|failed|dry-run]
  backfills get|pause|resume|cancel <backfillId>
  backfills watch <backfillId> [--interval-ms N]
  schedules [scheduleId]
  schedules pause|resume|trigger <scheduleId>      (admin key)
  feature-sets [id]
  exports start <featureSet> --from YYYY-MM-DD --to YYYY-MM-DD [--as-of ISO-INSTANT]
                [--format parquet|csv] [--training]
  exports get <exportId>
  features <featureSet> <entityId>                  (latest feature vector)
  datasets <dataset> <partition>
  alerts [--all] [--pipeline P] [--kind K]           (open alerts unless --all)
  alerts get|ack <alertId> [--comment TEXT]
  alerts silence --for 30m|2h|1d --reason TEXT [--pipeline P] [--kind K] [--partition PREFIX]
  alerts unsilence <silenceId>
  alerts deliveries [--status pending|delivered|failed|silenced] [--channel C]

  --api URL   API base URL (default: $FABRICA_API_URL, else http://127.0.0.1:3000)
  --key KEY   API key (default: $FABRICA_API_KEY, else the dev key in $FABRICA_HOME/dev-api-key)
  --json      print the API's JSON response as is

exit codes: 0 ok, 1 the API answered an error, 2 usage error, 3 cannot reach the API,
            4 (backfills watch) the backfill ended with failures or was cancelled`;
