{{/*
Names, labels, the image, and the Scrubber container (also usable as a sidecar from a parent
chart: `include "scrubber.container" .` with this chart's values under the same keys).

Modes: each mode `m` defines "scrubber.args.m" (the container's arguments),
"scrubber.port.m" (the port its probes and metrics answer on) and "scrubber.alerts.m"
(_alerts.tpl), and has its enum entry in values.schema.json and its name in "scrubber.modes".
*/}}

{{- define "scrubber.modes" -}}run serve gateway{{- end -}}

{{- define "scrubber.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "scrubber.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "scrubber.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "scrubber.labels" -}}
{{ include "scrubber.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: {{ .Values.mode }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "scrubber.selectorLabels" -}}
app.kubernetes.io/name: {{ include "scrubber.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "scrubber.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "scrubber.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "scrubber.image" -}}
{{- $image := .Values.image -}}
{{- $repository := $image.repository -}}
{{- if $image.registry }}{{ $repository = printf "%s/%s" $image.registry $repository }}{{ end -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (default .Chart.AppVersion $image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The port of the mode's HTTP endpoints (probes, metrics, the API). */}}
{{- define "scrubber.port" -}}{{ include (printf "scrubber.port.%s" .Values.mode) . }}{{- end -}}
{{- define "scrubber.port.run" -}}{{ .Values.metrics.port }}{{- end -}}
{{- define "scrubber.port.serve" -}}{{ .Values.serve.port }}{{- end -}}
{{- define "scrubber.port.gateway" -}}{{ .Values.gateway.port }}{{- end -}}

{{- define "scrubber.args.run" -}}
["run", "--config", "/etc/scrubber/config.yaml", "--workers", "{{ .Values.workers }}", "--metrics-port", "{{ .Values.metrics.port }}"]
{{- end -}}
{{- define "scrubber.args.serve" -}}
["serve", "--config", "/etc/scrubber/config.yaml", "--host", "0.0.0.0", "--port", "{{ .Values.serve.port }}"]
{{- end -}}
{{- define "scrubber.args.gateway" -}}
["gateway", "--config", "/etc/scrubber/config.yaml", "--host", "0.0.0.0", "--port", "{{ .Values.gateway.port }}"]
{{- end -}}

{{/* The TCP port of config.gateway.upstream: the URL's own, or the scheme's. */}}
{{- define "scrubber.upstreamPort" -}}
{{- $url := urlParse ((.Values.config.gateway | default dict).upstream | default "") -}}
{{- $port := regexFind "[0-9]+$" (regexFind ":[0-9]+$" $url.host) -}}
{{- $port | default (ternary "80" "443" (eq $url.scheme "http")) -}}
{{- end -}}

{{/* The named container port `http`: in mode run one endpoint serves every worker's metrics. */}}
{{- define "scrubber.ports" -}}
- name: http
  containerPort: {{ include "scrubber.port" . }}
{{- end -}}

{{/* The vault section of the config, or an empty dict. */}}
{{- define "scrubber.vaultStore" -}}
{{- $vault := .Values.config.vault | default dict -}}
{{- if .Values.config.vault }}{{ $vault.store | default "sqlite" }}{{ end -}}
{{- end -}}

{{- define "scrubber.probe" -}}
{{- $probe := omit .probe "enabled" "path" -}}
httpGet: {path: {{ .probe.path }}, port: http}
{{ toYaml $probe }}
{{- end -}}

{{- define "scrubber.container" -}}
- name: scrubber
  image: {{ include "scrubber.image" . | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args: {{ include (printf "scrubber.args.%s" .Values.mode) . }}
  # The working directory is the writable data volume: a relative sqlite_path lands there.
  workingDir: /var/lib/scrubber
  env:
    # Transactional ids must differ between live replicas and survive restarts: the pod name does both.
    - name: SCRUBBER_INSTANCE_ID
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
    {{- if eq (include "scrubber.vaultStore" .) "postgres" }}
    - name: {{ .Values.vault.postgres.env }}
      valueFrom:
        secretKeyRef:
          name: {{ .Values.vault.postgres.existingSecret }}
          key: {{ .Values.vault.postgres.secretKey }}
    {{- end }}
    {{- with .Values.env }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with .Values.envFrom }}
  envFrom:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  ports:
    {{- include "scrubber.ports" . | nindent 4 }}
  {{- range $kind := list "startup" "readiness" "liveness" }}
  {{- $probe := get $.Values.probes $kind }}
  {{- if $probe.enabled }}
  {{ $kind }}Probe:
    {{- include "scrubber.probe" (dict "probe" $probe) | nindent 4 }}
  {{- end }}
  {{- end }}
  resources:
    {{- toYaml .Values.resources | nindent 4 }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  volumeMounts:
    - name: config
      mountPath: /etc/scrubber
      readOnly: true
    - name: tmp
      mountPath: /tmp
    - name: data
      mountPath: /var/lib/scrubber
    {{- if .Values.keys.existingSecret }}
    - name: keys
      mountPath: /var/run/secrets/scrubber
      readOnly: true
    {{- end }}
    {{- with .Values.extraVolumeMounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}

{{- define "scrubber.volumes" -}}
- name: config
  configMap:
    name: {{ include "scrubber.fullname" . }}
- name: tmp
  emptyDir: {sizeLimit: {{ .Values.tmp.sizeLimit }}}
- name: data
  {{- if eq .Values.persistence.type "pvc" }}
  persistentVolumeClaim:
    claimName: {{ .Values.persistence.existingClaim | default (printf "%s-data" (include "scrubber.fullname" .)) }}
  {{- else }}
  emptyDir:
    {{- with .Values.persistence.emptyDir.sizeLimit }}
    sizeLimit: {{ . }}
    {{- end }}
    {{- with .Values.persistence.emptyDir.medium }}
    medium: {{ . }}
    {{- end }}
  {{- end }}
{{- if .Values.keys.existingSecret }}
- name: keys
  secret:
    secretName: {{ .Values.keys.existingSecret }}
{{- end }}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Consistency checks the schema cannot express; each message says how to fix it. */}}
{{- define "scrubber.validate" -}}
{{- $v := .Values -}}
{{- if not (has $v.mode (splitList " " (include "scrubber.modes" .))) -}}
{{- fail (printf "mode %q is not available in this chart version: use run, serve or gateway" $v.mode) -}}
{{- end -}}
{{- if and $v.autoscaling.enabled $v.keda.enabled -}}
{{- fail "autoscaling.enabled and keda.enabled both make an autoscaler for the same Deployment: choose one" -}}
{{- end -}}
{{- if and $v.keda.enabled (ne $v.mode "run") -}}
{{- fail "keda scales on consumer lag, which only mode run has: use autoscaling (CPU) for mode serve" -}}
{{- end -}}
{{- if and $v.serviceMonitor.enabled (not $v.service.enabled) -}}
{{- fail "serviceMonitor.enabled needs service.enabled: the ServiceMonitor scrapes through the Service" -}}
{{- end -}}
{{- $store := include "scrubber.vaultStore" . -}}
{{- $scaled := or (gt (int $v.replicaCount) 1) $v.autoscaling.enabled $v.keda.enabled -}}
{{- if eq $v.mode "gateway" -}}
{{- $gw := $v.config.gateway | default dict -}}
{{- if not $gw.upstream -}}
{{- fail "mode gateway needs config.gateway.upstream: the LLM API's base URL, e.g. https://api.openai.com" -}}
{{- end -}}
{{- if and (eq ($gw.scope | default "request") "conversation") (ne ($gw.conversation_store | default "memory") "vault") $scaled -}}
{{- fail "config.gateway.scope conversation keeps its books in each pod's memory: with more than one replica set config.gateway.conversation_store: vault on a postgres vault, or keep one replica" -}}
{{- end -}}
{{- end -}}
{{- if and (eq $store "sqlite") (eq $v.persistence.type "pvc") $scaled -}}
{{- fail "a SQLite vault on a PersistentVolumeClaim belongs to one pod: keep replicaCount 1 without autoscaling, or use config.vault.store: postgres" -}}
{{- end -}}
{{- if eq $store "postgres" -}}
{{- if not $v.vault.postgres.existingSecret -}}
{{- fail "config.vault.store is postgres: set vault.postgres.existingSecret to the Secret holding the DSN (key vault.postgres.secretKey)" -}}
{{- end -}}
{{- $dsn := $v.config.vault.postgres_dsn | default dict -}}
{{- if ne ($dsn.env | default "") $v.vault.postgres.env -}}
{{- fail (printf "config.vault.postgres_dsn must be {env: %s} (vault.postgres.env), the variable the chart fills from the Secret" $v.vault.postgres.env) -}}
{{- end -}}
{{- end -}}
{{- if $v.networkPolicy.enabled -}}
{{- if and (eq $v.mode "run") (not $v.networkPolicy.egress.kafka.to) -}}
{{- fail "networkPolicy.egress.kafka.to is empty: name the brokers (podSelector, namespaceSelector or ipBlock peers)" -}}
{{- end -}}
{{- if eq $v.mode "gateway" -}}
{{- if not $v.networkPolicy.egress.upstream.to -}}
{{- fail "networkPolicy.egress.upstream.to is empty: name the LLM upstream (an ipBlock for an external API, or the pods of an in-cluster LLM gateway)" -}}
{{- end -}}
{{- $port := include "scrubber.upstreamPort" . -}}
{{- $ports := list -}}
{{- range $v.networkPolicy.egress.upstream.ports }}{{ $ports = append $ports (toString .) }}{{ end -}}
{{- if not (has $port $ports) -}}
{{- fail (printf "networkPolicy.egress.upstream.ports does not hold %s, the port of config.gateway.upstream" $port) -}}
{{- end -}}
{{- end -}}
{{- if and (eq $store "postgres") (not $v.networkPolicy.egress.vault.to) -}}
{{- fail "networkPolicy.egress.vault.to is empty: name the PostgreSQL server of the vault" -}}
{{- end -}}
{{- end -}}
{{- end -}}
