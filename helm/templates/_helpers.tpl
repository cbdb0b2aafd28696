{{- define "scrubber.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "scrubber.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "scrubber.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "scrubber.port" -}}
{{- if eq .Values.mode "serve" -}}{{ .Values.serve.port }}{{- else -}}{{ .Values.metrics.port }}{{- end -}}
{{- end -}}

{{/* The Scrubber container: the pod's main container, or a sidecar in another chart. */}}
{{- define "scrubber.container" -}}
- name: scrubber
  image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  {{- if eq .Values.mode "serve" }}
  args: ["serve", "--config", "/etc/scrubber/config.yaml", "--host", "0.0.0.0", "--port", "{{ .Values.serve.port }}"]
  {{- else }}
  args: ["run", "--config", "/etc/scrubber/config.yaml", "--workers", "{{ .Values.workers }}", "--metrics-port", "{{ .Values.metrics.port }}"]
  {{- end }}
  env:
    # Transactional ids must differ between live replicas and survive restarts: the pod name does both.
    - name: SCRUBBER_INSTANCE_ID
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
    {{- with .Values.env }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  ports:
    - name: http
      containerPort: {{ include "scrubber.port" . }}
  readinessProbe:
    httpGet: {path: /readyz, port: http}
    periodSeconds: 5
  livenessProbe:
    httpGet: {path: /healthz, port: http}
    initialDelaySeconds: 60
    periodSeconds: 10
    failureThreshold: 6
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
    {{- if .Values.keys.existingSecret }}
    - name: keys
      mountPath: /var/run/secrets/scrubber
      readOnly: true
    {{- end }}
{{- end -}}
