{{/* Names. */}}
{{- define "streamguard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "streamguard.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "streamguard.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "streamguard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: streamguard
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one service: call with (dict "root" $ "svc" "ingest"). */}}
{{- define "streamguard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "streamguard.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .svc }}
{{- end -}}

{{- define "streamguard.componentLabels" -}}
{{ include "streamguard.labels" .root }}
app.kubernetes.io/component: {{ .svc }}
{{- end -}}

{{- define "streamguard.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/*
Facts the services hard-code (see apps/<svc>/src/<svc>.config.ts): the env var of the HTTP port, whether
the service talks to Postgres (all four do: every service loads the API key table; ingest reads nothing
else), and for consumers the input topic role of their consumer group.
*/}}
{{- define "streamguard.facts" -}}
ingest: {portEnv: INGEST_PORT, database: true, consumer: false}
enrich: {portEnv: ENRICH_PORT, database: true, consumer: true, input: raw}
aggregate: {portEnv: AGGREGATE_PORT, database: true, consumer: true, input: enriched}
alert: {portEnv: ALERT_PORT, database: true, consumer: true, input: enriched}
{{- end -}}

{{/*
The consumer groups a service runs, with the topic each reads, as YAML {groups: [{group, topic}]}: what its
KEDA ScaledObject scales on. Call with (dict "root" $ "svc" <name>). Aggregate runs up to three groups,
depending on its window definitions (apps/aggregate/src/repartition/window-routing.ts): a definition whose
groupBy, without tenantId, starts with accountId is co-partitioned and runs on the input topic
(<prefix>.aggregate); any other is shuffled by <prefix>.aggregate-repartition (input topic) into
kafka.topics.repartition and windowed there by <prefix>.aggregate-repartitioned. The co-partitioned stage
also runs when there is nothing to shuffle. A group that is not running must get no trigger: it never
commits, so KEDA (offsetResetPolicy earliest) would count the whole topic as its lag and pin maxReplicas.
WINDOW_DEFINITIONS empty = the built-in defaults (account-1m by accountId, merchant-1h by merchantId): all three.
*/}}
{{- define "streamguard.lagGroups" -}}
{{- $v := .root.Values -}}
{{- $f := index (include "streamguard.facts" .root | fromYaml) .svc -}}
{{- $group := printf "%s.%s" $v.kafka.groupPrefix .svc -}}
{{- $input := index $v.kafka.topics $f.input -}}
{{- $groups := list -}}
{{- if eq .svc "aggregate" -}}
{{- $co := true -}}
{{- $shuffled := true -}}
{{- $raw := toString (default "" (index $v.services.aggregate.config "WINDOW_DEFINITIONS")) -}}
{{- if $raw -}}
{{- $co = false -}}
{{- $shuffled = false -}}
{{- range $def := fromJsonArray $raw -}}
{{- if not (and (kindIs "map" $def) (kindIs "slice" $def.groupBy)) -}}
{{- fail "services.aggregate.config.WINDOW_DEFINITIONS is not a JSON array of window definitions with a groupBy array" -}}
{{- end -}}
{{- $gb := without $def.groupBy "tenantId" -}}
{{- if and $gb (eq (toString (first $gb)) "accountId") -}}
{{- $co = true -}}
{{- else -}}
{{- $shuffled = true -}}
{{- end -}}
{{- end -}}
{{- if not $shuffled -}}
{{- $co = true -}}
{{- end -}}
{{- end -}}
{{- if $co -}}
{{- $groups = append $groups (dict "group" $group "topic" $input) -}}
{{- end -}}
{{- if $shuffled -}}
{{- $groups = append $groups (dict "group" (printf "%s-repartition" $group) "topic" $input) -}}
{{- $groups = append $groups (dict "group" (printf "%s-repartitioned" $group) "topic" $v.kafka.topics.repartition) -}}
{{- end -}}
{{- else -}}
{{- $groups = append $groups (dict "group" $group "topic" $input) -}}
{{- end -}}
{{- dict "groups" $groups | toYaml -}}
{{- end -}}

{{- define "streamguard.serviceAccountName" -}}
{{- if .root.Values.serviceAccount.create -}}
{{- printf "%s-%s" (include "streamguard.fullname" .root) .svc -}}
{{- else -}}
default
{{- end -}}
{{- end -}}

{{- define "streamguard.postgresSecretName" -}}
{{- if .Values.postgres.existingSecret -}}
{{- .Values.postgres.existingSecret -}}
{{- else -}}
{{- printf "%s-postgres" (include "streamguard.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* Environment shared by every service, as ConfigMap data. */}}
{{- define "streamguard.commonConfig" -}}
KAFKA_BROKERS: {{ .Values.kafka.brokers | quote }}
KAFKA_CLIENT_ID: {{ .Values.kafka.clientId | quote }}
KAFKA_GROUP_PREFIX: {{ .Values.kafka.groupPrefix | quote }}
KAFKA_FETCH_MAX_WAIT_MS: {{ .Values.kafka.fetchMaxWaitMs | int | quote }}
TOPIC_EVENTS_RAW: {{ .Values.kafka.topics.raw | quote }}
TOPIC_EVENTS_ENRICHED: {{ .Values.kafka.topics.enriched | quote }}
TOPIC_AGGREGATES: {{ .Values.kafka.topics.aggregates | quote }}
TOPIC_ALERTS: {{ .Values.kafka.topics.alerts | quote }}
TOPIC_EVENTS_DLQ: {{ .Values.kafka.topics.dlq | quote }}
TOPIC_EVENTS_LATE: {{ .Values.kafka.topics.late | quote }}
TOPIC_EVENTS_REPARTITION: {{ .Values.kafka.topics.repartition | quote }}
TOPIC_OUTBOX_MARKERS: {{ .Values.kafka.topics.outboxMarkers | quote }}
LOG_LEVEL: {{ .Values.logLevel | quote }}
SHUTDOWN_GRACE_MS: {{ .Values.shutdownGraceMs | int | quote }}
DATABASE_POOL_SIZE: {{ .Values.postgres.poolSize | int | quote }}
{{- if .Values.kafka.sasl.enabled }}
KAFKA_SASL_MECHANISM: {{ .Values.kafka.sasl.mechanism | quote }}
{{- end }}
{{- if .Values.kafka.tls.enabled }}
KAFKA_TLS: "true"
{{- with .Values.kafka.tls.existingSecret }}
{{- if $.Values.kafka.tls.caKey }}
KAFKA_TLS_CA_FILE: {{ printf "/etc/streamguard/kafka-tls/%s" $.Values.kafka.tls.caKey | quote }}
{{- end }}
{{- if $.Values.kafka.tls.certKey }}
KAFKA_TLS_CERT_FILE: {{ printf "/etc/streamguard/kafka-tls/%s" $.Values.kafka.tls.certKey | quote }}
{{- end }}
{{- if $.Values.kafka.tls.keyKey }}
KAFKA_TLS_KEY_FILE: {{ printf "/etc/streamguard/kafka-tls/%s" $.Values.kafka.tls.keyKey | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
Env vars read from Secrets. Call with (dict "root" $ "database" bool "service" name). A service's
DATABASE_URL comes from postgres.serviceUrlKeys.<service> (its own least-privilege login). It falls back to
postgres.urlKey (the schema owner) only where streamguard.validate allows that: the development Secret of
postgres.url, or postgres.allowOwnerUrlForServices. Jobs and the test pod (no entry there) use postgres.urlKey.
*/}}
{{- define "streamguard.secretEnv" -}}
{{- $v := .root.Values -}}
{{- if .database }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "streamguard.postgresSecretName" .root }}
      key: {{ (get $v.postgres.serviceUrlKeys .service) | default $v.postgres.urlKey }}
{{- end }}
{{- if $v.kafka.sasl.enabled }}
- name: KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $v.kafka.sasl.existingSecret }}
      key: {{ $v.kafka.sasl.usernameKey }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $v.kafka.sasl.existingSecret }}
      key: {{ $v.kafka.sasl.passwordKey }}
{{- end }}
{{- end -}}

{{/* Container security context of the restricted Pod Security Standard. */}}
{{- define "streamguard.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "streamguard.podSecurityContext" -}}
runAsNonRoot: true
{{- with .Values.securityContext.runAsUser }}
runAsUser: {{ . }}
{{- end }}
{{- with .Values.securityContext.runAsGroup }}
runAsGroup: {{ . }}
{{- end }}
{{- with .Values.securityContext.fsGroup }}
fsGroup: {{ . }}
{{- end }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Volumes every pod has: a writable /tmp (the root filesystem is read-only) and the Kafka TLS material. */}}
{{- define "streamguard.baseVolumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.existingSecret }}
- name: kafka-tls
  secret:
    secretName: {{ .Values.kafka.tls.existingSecret }}
{{- end }}
{{- end -}}

{{- define "streamguard.baseVolumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.existingSecret }}
- name: kafka-tls
  mountPath: /etc/streamguard/kafka-tls
  readOnly: true
{{- end }}
{{- end -}}

{{/* Render-time checks: a bad combination fails `helm install` with its reason. */}}
{{- define "streamguard.validate" -}}
{{- $v := .Values -}}
{{- $graceNeeded := add (div $v.shutdownGraceMs 1000) $v.preStopSleepSeconds -}}
{{- if le (int $v.terminationGracePeriodSeconds) (int $graceNeeded) -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed shutdownGraceMs/1000 + preStopSleepSeconds (%d)" (int $v.terminationGracePeriodSeconds) (int $graceNeeded)) -}}
{{- end -}}
{{- if and (not $v.postgres.existingSecret) (not $v.postgres.url) -}}
{{- fail "set postgres.existingSecret (a Secret with the DATABASE_URL) or, for development, postgres.url" -}}
{{- end -}}
{{- range $svc, $key := $v.postgres.serviceUrlKeys -}}
{{- if and $key (not $v.postgres.existingSecret) -}}
{{- fail (printf "postgres.serviceUrlKeys.%s needs postgres.existingSecret (the chart's development Secret holds only postgres.url)" $svc) -}}
{{- end -}}
{{- end -}}
{{- /* Least privilege: with a Secret of yours, every service connecting to Postgres has its own login. */ -}}
{{- if and $v.postgres.existingSecret (not $v.postgres.allowOwnerUrlForServices) -}}
{{- $facts := include "streamguard.facts" . | fromYaml -}}
{{- $seen := dict -}}
{{- range $name, $svc := $v.services -}}
{{- if and $svc.enabled (index $facts $name).database -}}
{{- $key := get $v.postgres.serviceUrlKeys $name -}}
{{- if not $key -}}
{{- fail (printf "postgres.serviceUrlKeys.%s is empty: with postgres.existingSecret every service needs its own least-privilege login (a user IN ROLE streamguard_%s, see k8s/README.md), not postgres.urlKey, the schema owner. Development only: postgres.allowOwnerUrlForServices=true" $name $name) -}}
{{- end -}}
{{- if eq $key $v.postgres.urlKey -}}
{{- fail (printf "postgres.serviceUrlKeys.%s is postgres.urlKey (%s), the schema owner's connection string: give the service its own login (a user IN ROLE streamguard_%s, see k8s/README.md). Development only: postgres.allowOwnerUrlForServices=true" $name $key $name) -}}
{{- end -}}
{{- if hasKey $seen $key -}}
{{- fail (printf "postgres.serviceUrlKeys.%s and postgres.serviceUrlKeys.%s are both %s: each service needs its own login (the group roles streamguard_<service> grant different privileges)" (get $seen $key) $name $key) -}}
{{- end -}}
{{- $_ := set $seen $key $name -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and $v.kafka.sasl.enabled (not $v.kafka.sasl.existingSecret) -}}
{{- fail "kafka.sasl.enabled needs kafka.sasl.existingSecret" -}}
{{- end -}}
{{- with $v.services.ingest.config -}}
{{- if lt (int .RATE_LIMIT_BURST) (int .INGEST_MAX_BATCH_EVENTS) -}}
{{- fail (printf "services.ingest.config.RATE_LIMIT_BURST (%d) is below INGEST_MAX_BATCH_EVENTS (%d): a full batch would always be refused (413) for keys without their own burst" (int .RATE_LIMIT_BURST) (int .INGEST_MAX_BATCH_EVENTS)) -}}
{{- end -}}
{{- end -}}
{{- range $name, $svc := $v.services -}}
{{- if and $svc.enabled $svc.autoscaling.enabled -}}
{{- if gt (int $svc.autoscaling.minReplicas) (int $svc.autoscaling.maxReplicas) -}}
{{- fail (printf "services.%s.autoscaling: minReplicas > maxReplicas" $name) -}}
{{- end -}}
{{- if and (ne $name "ingest") (gt (int $svc.autoscaling.maxReplicas) (int $v.kafka.partitions)) -}}
{{- fail (printf "services.%s.autoscaling.maxReplicas (%d) exceeds kafka.partitions (%d): extra consumers would sit idle" $name (int $svc.autoscaling.maxReplicas) (int $v.kafka.partitions)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Non-empty when the KEDA Kafka scaler needs a TriggerAuthentication. */}}
{{- define "streamguard.kedaAuth" -}}
{{- if or .Values.kafka.sasl.enabled (and .Values.kafka.tls.enabled .Values.kafka.tls.existingSecret) -}}
true
{{- end -}}
{{- end -}}

{{/* Common config as a container env list (hook Jobs run before the ConfigMaps exist). */}}
{{- define "streamguard.commonEnvList" -}}
{{- range $key, $value := include "streamguard.commonConfig" . | fromYaml }}
- name: {{ $key }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/* Pod spec parts every hook/test pod shares. */}}
{{- define "streamguard.hookPodSpec" -}}
automountServiceAccountToken: false
securityContext:
  {{- include "streamguard.podSecurityContext" . | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  {{- include "streamguard.baseVolumes" . | nindent 2 }}
{{- end -}}
