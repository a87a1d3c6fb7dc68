{{/* Names, labels and the per-component settings shared by the templates. */}}

{{- define "fabrica.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "fabrica.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component (api, worker-cloud, worker-edge, prepare): pass (list $ "component"). */}}
{{- define "fabrica.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ $root.Chart.Name }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "fabrica.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "fabrica.secretName" -}}
{{- .Values.secret.existingSecret | default (printf "%s-secrets" (include "fabrica.fullname" .)) -}}
{{- end -}}

{{/* The secret keys that exist: those listed for an existing Secret, else the non-empty values. One per line. */}}
{{- define "fabrica.secretKeys" -}}
{{- if .Values.secret.existingSecret -}}
{{- range .Values.secret.existingSecretKeys }}
{{ . }}
{{- end -}}
{{- else -}}
{{- range $key, $value := .Values.secret.data }}
{{- if or $value (eq $key "FABRICA_SESSION_SECRET") }}
{{ $key }}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The session secret of the chart's Secret: the value given, else the one the release's Secret already holds (so an
upgrade keeps sessions), else a new random one. API replicas must share it.
*/}}
{{- define "fabrica.sessionSecret" -}}
{{- if .Values.secret.data.FABRICA_SESSION_SECRET -}}
{{- .Values.secret.data.FABRICA_SESSION_SECRET -}}
{{- else -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "fabrica.secretName" .) -}}
{{- if and $existing $existing.data (hasKey $existing.data "FABRICA_SESSION_SECRET") -}}
{{- index $existing.data "FABRICA_SESSION_SECRET" | b64dec -}}
{{- else -}}
{{- randAlphaNum 48 -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The secret keys a component may see: the API the warehouse, sessions and API keys; a cloud worker the warehouse and
alert channels; an edge worker the plant's databases (inventory, records); `all` both roles' keys; the prepare Job
the Temporal API key only.
*/}}
{{- define "fabrica.allowedSecretKeys" -}}
{{- $common := list "TEMPORAL_API_KEY" "AWS_ACCESS_KEY_ID" "AWS_SECRET_ACCESS_KEY" -}}
{{- $cloud := list "DATABASE_URL" "FABRICA_ALERT_CHANNELS" -}}
{{- $edge := list "INVENTORY_DATABASE_URL" "RECORDS_DATABASE_URL" -}}
{{- $byComponent := dict "api" (list "DATABASE_URL" "FABRICA_SESSION_SECRET" "FABRICA_API_KEYS") "cloud" $cloud "edge" $edge "all" (concat $cloud $edge) -}}
{{- if eq . "prepare" -}}
TEMPORAL_API_KEY
{{- else -}}
{{- concat $common (get $byComponent .) | join "\n" -}}
{{- end -}}
{{- end -}}

{{/* The secret keys one component gets: pass (list $ "component"). */}}
{{- define "fabrica.componentSecretKeys" -}}
{{- $root := index . 0 -}}
{{- $allowed := include "fabrica.allowedSecretKeys" (index . 1) | splitList "\n" -}}
{{- $keys := list -}}
{{- range (include "fabrica.secretKeys" $root | trim | splitList "\n") -}}
{{- if and . (has . $allowed) -}}{{- $keys = append $keys . -}}{{- end -}}
{{- end -}}
{{- $keys | sortAlpha | join "\n" -}}
{{- end -}}

{{/* The env entries pointing a component at its secrets: `<VAR>_FILE` for files, AWS keys from the Secret. */}}
{{- define "fabrica.secretEnv" -}}
{{- $root := index . 0 -}}
{{- range (include "fabrica.componentSecretKeys" . | splitList "\n") -}}
{{- if hasPrefix "AWS_" . }}
- name: {{ . }}
  valueFrom:
    secretKeyRef:
      name: {{ include "fabrica.secretName" $root }}
      key: {{ . }}
{{- else if . }}
- name: {{ . }}_FILE
  value: /etc/fabrica/secrets/{{ . }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The secret keys a component reads from files (all but the AWS credentials), one per line: pass (list $ "component"). */}}
{{- define "fabrica.fileSecretKeys" -}}
{{- $keys := list -}}
{{- range (include "fabrica.componentSecretKeys" . | splitList "\n") -}}
{{- if and . (not (hasPrefix "AWS_" .)) -}}{{- $keys = append $keys . -}}{{- end -}}
{{- end -}}
{{- $keys | join "\n" -}}
{{- end -}}

{{/* The secret volume of a component, only its own keys as files: pass (list $ "component"); empty: none. */}}
{{- define "fabrica.secretVolume" -}}
{{- $files := include "fabrica.fileSecretKeys" . -}}
{{- if $files }}
- name: secrets
  secret:
    secretName: {{ include "fabrica.secretName" (index . 0) }}
    defaultMode: 0440
    items:
{{- range (splitList "\n" $files) }}
      - key: {{ . }}
        path: {{ . }}
{{- end }}
{{- end -}}
{{- end -}}

{{/* The mount of that volume, when there is one. */}}
{{- define "fabrica.secretVolumeMount" -}}
{{- if include "fabrica.fileSecretKeys" . }}
- name: secrets
  mountPath: /etc/fabrica/secrets
  readOnly: true
{{- end -}}
{{- end -}}

{{/* Settings every Fábrica process gets besides the ConfigMap: where its writable state goes. */}}
{{- define "fabrica.baseEnv" -}}
- name: FABRICA_HOME
  value: /tmp/fabrica
{{- end -}}

{{/* Env entries of a map, sorted by name. */}}
{{- define "fabrica.envMap" -}}
{{- range $name, $value := . }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end -}}
{{- end -}}


{{/* Temporal TLS of every process: TEMPORAL_TLS, the server name, and the files of the TLS Secret. */}}
{{- define "fabrica.temporalTlsEnv" -}}
{{- $t := .Values.temporal.tls -}}
{{- if or $t.enabled $t.secretName }}
- name: TEMPORAL_TLS
  value: "true"
{{- end }}
{{- with $t.serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ . | quote }}
{{- end }}
{{- if $t.secretName }}
{{- with $t.caKey }}
- name: TEMPORAL_TLS_CA_FILE
  value: /etc/fabrica/temporal-tls/{{ . }}
{{- end }}
{{- if and $t.certKey $t.keyKey }}
- name: TEMPORAL_TLS_CERT_FILE
  value: /etc/fabrica/temporal-tls/{{ $t.certKey }}
- name: TEMPORAL_TLS_KEY_FILE
  value: /etc/fabrica/temporal-tls/{{ $t.keyKey }}
{{- else if or $t.certKey $t.keyKey }}
{{- fail "temporal.tls: certKey and keyKey go together (mTLS needs both), or leave both empty" }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The Temporal TLS Secret as a volume, when one is given. */}}
{{- define "fabrica.temporalTlsVolume" -}}
{{- with .Values.temporal.tls.secretName }}
- name: temporal-tls
  secret:
    secretName: {{ . }}
    defaultMode: 0440
{{- end -}}
{{- end -}}

{{/* Its mount. */}}
{{- define "fabrica.temporalTlsVolumeMount" -}}
{{- if .Values.temporal.tls.secretName }}
- name: temporal-tls
  mountPath: /etc/fabrica/temporal-tls
  readOnly: true
{{- end -}}
{{- end -}}
