{{/*
Alert rules, by mode: "scrubber.alerts.<mode>" gets (dict "s" SELECTOR "t" THRESHOLDS "sev" SEVERITY)
and returns a list of Prometheus rules. The metric names are the ones the processes export
(tests/integration/test_chart.py checks them); helm/tests/alerts-<mode>.test.yaml tests each rule
with `promtool test rules`. `{{`{{ $labels.x }}`}}` is written so for Helm to leave it to Prometheus.
*/}}

{{- define "scrubber.alerts.run" -}}
{{- $s := .s -}}{{- $t := .t -}}{{- $sev := .sev -}}
- alert: ScrubberConsumerLagGrowing
  expr: |
    sum by (namespace, job, route) (scrubber_consumer_lag_records{ {{- $s -}} }) > {{ $t.consumerLagRecords }}
    and
    sum by (namespace, job, route) (delta(scrubber_consumer_lag_records{ {{- $s -}} }[15m])) > 0
  for: 15m
  labels: {severity: {{ $sev.ticket }}}
  annotations:
    summary: >-
      Scrubber falls behind on route {{`{{ $labels.route }}`}}
    description: >-
      {{`{{ $value | humanize }}`}} records wait on route {{`{{ $labels.route }}`}} and the lag has grown for 15 minutes; add replicas or workers (up to the partition count) or look for slow batches (scrubber_scrub_seconds).
- alert: ScrubberQuarantineRatioHigh
  expr: |
    sum by (namespace, job, route) (rate(scrubber_records_quarantined_total{ {{- $s -}} }[10m]))
    /
    sum by (namespace, job, route) (rate(scrubber_records_in_total{ {{- $s -}} }[10m]))
    > {{ $t.quarantineRatio }}
  for: 10m
  labels: {severity: {{ $sev.ticket }}}
  annotations:
    summary: >-
      Many records of route {{`{{ $labels.route }}`}} fail closed
    description: >-
      {{`{{ $value | humanizePercentage }}`}} of the records of route {{`{{ $labels.route }}`}} go to quarantine; scrubber_records_quarantined_total by reason says why (too_large, malformed_json, deadline_exceeded...).
- alert: ScrubberDeliveryErrors
  expr: |
    sum by (namespace, job, route) (increase(scrubber_delivery_errors_total{ {{- $s -}} }[5m])) > 0
  for: 10m
  labels: {severity: {{ $sev.ticket }}}
  annotations:
    summary: >-
      Deliveries to the output topic of route {{`{{ $labels.route }}`}} keep failing
    description: >-
      {{`{{ $value | humanize }}`}} failed deliveries in the last 5 minutes, and deliveries have failed for 10 minutes (they are retried; offsets are not committed past them). Check the brokers and the output topic's ACLs.
- alert: ScrubberVaultUnavailable
  expr: |
    sum by (namespace, job) (rate(scrubber_batch_retries_total{ {{- $s -}}, reason="vault_unavailable"}[5m])) > 0
    or
    sum by (namespace, job) (rate(scrubber_records_quarantined_total{ {{- $s -}}, reason="vault_unavailable"}[5m])) > 0
  for: 5m
  labels: {severity: {{ $sev.page }}}
  annotations:
    summary: >-
      The token vault cannot store values
    description: >-
      Batches are held back (or records fail closed) because the token vault does not answer; records wait on Kafka until it does. Check the vault's database.
- alert: ScrubberNoRecordsFlowing
  expr: |
    sum by (namespace, job, route) (increase(scrubber_records_out_total{ {{- $s -}} }[{{ $t.noFlowMinutes }}m])) == 0
    and
    sum by (namespace, job, route) (scrubber_consumer_lag_records{ {{- $s -}} }) > 0
  for: 5m
  labels: {severity: {{ $sev.page }}}
  annotations:
    summary: >-
      No record leaves route {{`{{ $labels.route }}`}} although records wait
    description: >-
      Nothing was produced on route {{`{{ $labels.route }}`}} for {{ $t.noFlowMinutes }} minutes while its consumer lag is above zero; the pipeline is stuck (see the workers' logs and /healthz).
- alert: ScrubberPipelineLatencyHigh
  expr: |
    histogram_quantile(0.99, sum by (namespace, job, le) (rate(scrubber_end_to_end_seconds_bucket{ {{- $s -}} }[10m]))) > {{ $t.pipelineLatencyP99Seconds }}
  for: 15m
  labels: {severity: {{ $sev.ticket }}}
  annotations:
    summary: >-
      Records take long from the input topic to the output topic
    description: >-
      The 99th percentile from a record's timestamp to its delivery is {{`{{ $value | humanizeDuration }}`}}.
- alert: ScrubberKAnonymityBreach
  expr: |
    min by (namespace, job, route) (scrubber_kanon_smallest_class{ {{- $s -}} })
    < on (namespace, job, route)
    max by (namespace, job, route) (scrubber_kanon_k{ {{- $s -}} })
  for: 10m
  labels: {severity: {{ $sev.ticket }}}
  annotations:
    summary: >-
      The output of route {{`{{ $labels.route }}`}} singles people out
    description: >-
      The smallest class of quasi-identifiers in the last closed window of route {{`{{ $labels.route }}`}} holds {{`{{ $value }}`}} records, fewer than the route's k, and has for 10 minutes. Coarsen the quasi-identifiers (the generalize operator, or kanon.on_breach generalize); see docs/kanon.md.
- alert: ScrubberProducerFenced
  expr: |
    max by (namespace, job, pod) (max_over_time(scrubber_producer_fenced_total{ {{- $s -}} }[15m])) > 0
  labels: {severity: {{ $sev.page }}}
  annotations:
    summary: >-
      An exactly-once producer of {{`{{ $labels.pod }}`}} was replaced (fenced)
    description: >-
      Another live process took the same transactional id, so this worker stopped; two processes sharing an id fence each other in turn. Give each replica its own kafka.instance_id (the chart sets SCRUBBER_INSTANCE_ID to the pod name).
{{- end -}}

{{- define "scrubber.alerts.serve" -}}
{{- $s := .s -}}{{- $t := .t -}}{{- $sev := .sev -}}
- alert: ScrubberVaultUnavailable
  expr: |
    sum by (namespace, job) (rate(scrubber_http_requests_total{ {{- $s -}}, route="/readyz", status="503"}[5m])) > 0
  for: 5m
  labels: {severity: {{ $sev.page }}}
  annotations:
    summary: >-
      The token vault does not answer the API
    description: >-
      /readyz answers 503 (vault_unavailable), so the pods leave the Service and tokenizing requests fail. Check the vault's database.
- alert: ScrubberApiErrors
  expr: |
    sum by (namespace, job) (rate(scrubber_http_requests_total{ {{- $s -}}, route=~"/v1/.*", status=~"5.."}[10m]))
    /
    sum by (namespace, job) (rate(scrubber_http_requests_total{ {{- $s -}}, route=~"/v1/.*"}[10m]))
    > {{ $t.apiErrorRatio }}
  for: 10m
  labels: {severity: {{ $sev.ticket }}}
  annotations:
    summary: >-
      Many API requests fail
    description: >-
      {{`{{ $value | humanizePercentage }}`}} of the /v1 requests answer 5xx (busy, vault_unavailable or internal); scrubber_http_busy_total and the logs say which.
- alert: ScrubberApiLatencyHigh
  expr: |
    histogram_quantile(0.99, sum by (namespace, job, le) (rate(scrubber_http_request_seconds_bucket{ {{- $s -}}, route="/v1/scrub"}[10m]))) > {{ $t.apiLatencyP99Seconds }}
  for: 15m
  labels: {severity: {{ $sev.ticket }}}
  annotations:
    summary: >-
      /v1/scrub is slow
    description: >-
      The 99th percentile of /v1/scrub is {{`{{ $value | humanizeDuration }}`}}; see scrubber_engine_queue for waiting calls.
{{- end -}}

{{- define "scrubber.alerts.gateway" -}}
{{- $s := .s -}}{{- $t := .t -}}{{- $sev := .sev -}}
- alert: ScrubberGatewayScrubFailures
  expr: |
    sum by (namespace, job) (increase(scrubber_gateway_scrub_failures_total{ {{- $s -}} }[5m])) > 0
  for: 5m
  labels: {severity: {{ $sev.page }}}
  annotations:
    summary: >-
      The gateway refuses requests because scrubbing fails
    description: >-
      {{`{{ $value | humanize }}`}} requests in the last 5 minutes were refused with 503 (scrub_failed or scrub_deadline; fail closed, nothing forwarded); see the logs and gateway.timeouts.scrub_seconds.
- alert: ScrubberGatewayUpstreamErrors
  expr: |
    sum by (namespace, job) (rate(scrubber_gateway_upstream_errors_total{ {{- $s -}} }[10m]))
    /
    sum by (namespace, job) (rate(scrubber_gateway_requests_total{ {{- $s -}} }[10m]))
    > {{ $t.apiErrorRatio }}
  for: 10m
  labels: {severity: {{ $sev.ticket }}}
  annotations:
    summary: >-
      Many requests through the gateway fail upstream
    description: >-
      {{`{{ $value | humanizePercentage }}`}} of the gateway's requests got an upstream error (an answer >= 400, unreachable or timed out); check the LLM API and the NetworkPolicy's upstream egress.
- alert: ScrubberGatewayAddedLatencyHigh
  expr: |
    histogram_quantile(0.99, sum by (namespace, job, le) (rate(scrubber_gateway_added_seconds_bucket{ {{- $s -}} }[10m]))) > {{ $t.gatewayAddedP99Seconds }}
  for: 15m
  labels: {severity: {{ $sev.ticket }}}
  annotations:
    summary: >-
      The gateway adds much time to requests
    description: >-
      The 99th percentile of the time the gateway adds (scrubbing and restoring, upstream excluded) is {{`{{ $value | humanizeDuration }}`}}; add replicas or CPU.
{{- end -}}

{{- define "scrubber.alerts.common" -}}
{{- $s := .s -}}{{- $sev := .sev -}}
- alert: ScrubberDown
  expr: |
    up{ {{- $s -}} } == 0
  for: 5m
  labels: {severity: {{ $sev.page }}}
  annotations:
    summary: >-
      Prometheus cannot scrape {{`{{ $labels.instance }}`}}
    description: >-
      The metrics endpoint of {{`{{ $labels.instance }}`}} has not answered for 5 minutes.
{{- end -}}
