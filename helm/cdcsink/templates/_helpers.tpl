{{/*
Helpers shared by the templates. Every template ranges over
.Values.pipelines and renders one object (or a few) per pipeline; the
helpers below take a dict with "ctx" (the root context) and "name" (the
pipeline's key in .Values.pipelines).
*/}}

{{/* Mount points inside every pod. */}}
{{- define "cdcsink.configDir" -}}/etc/cdcsink{{- end -}}
{{- define "cdcsink.configFile" -}}/etc/cdcsink/pipeline.properties{{- end -}}
{{- define "cdcsink.secretDir" -}}/etc/cdcsink/secrets{{- end -}}

{{/*
<release>-<pipeline>: the name of the pipeline's Deployment, Service,
ConfigMap, Secret, PodDisruptionBudget and ScaledObject, and the prefix of
its Jobs. Kubernetes caps CronJob names at 52 characters and this one gets
"-dlq-replay" (11), hence 41. Truncating instead could make two pipelines
collide, so a long name is an error.
*/}}
{{- define "cdcsink.pipelineFullname" -}}
{{- $full := printf "%s-%s" .ctx.Release.Name .name -}}
{{- if gt (len $full) 41 -}}
{{- fail (printf "pipelines.%s: %q (release name + \"-\" + pipeline name) is %d characters, at most 41 fit the object names (the CronJob %s-dlq-replay may have 52); shorten the release or the pipeline name" .name $full (len $full) $full) -}}
{{- end -}}
{{- $full -}}
{{- end -}}

{{- define "cdcsink.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object of the release. */}}
{{- define "cdcsink.labels" -}}
helm.sh/chart: {{ include "cdcsink.chart" . }}
app.kubernetes.io/name: cdcsink
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* What selects one pipeline's pods (and nothing of another pipeline). */}}
{{- define "cdcsink.selectorLabels" -}}
app.kubernetes.io/name: cdcsink
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: pipeline
cdcsink/pipeline: {{ .name }}
{{- end -}}

{{/* Labels of a pipeline's objects; .component: pipeline (default), migrate, dlq-replay. */}}
{{- define "cdcsink.pipelineLabels" -}}
{{ include "cdcsink.labels" .ctx }}
app.kubernetes.io/component: {{ .component | default "pipeline" }}
cdcsink/pipeline: {{ .name }}
{{- end -}}

{{- define "cdcsink.image" -}}
{{- $img := .Values.image -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $img.repository $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $img.repository (default .Chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end -}}

{{/*
cdcsink.merge: .base with .over laid on it, as YAML. Maps merge key by
key (recursively); anything else in .over replaces. Sprig's mergeOverwrite
is not used because it skips "empty" values: a pipeline's `false` or `0`
would silently keep the default's `true` or `1`.
*/}}
{{- define "cdcsink.merge" -}}
{{- $out := deepCopy .base -}}
{{- range $k, $v := .over -}}
{{- $b := get $out $k -}}
{{- if and (kindIs "map" $v) (kindIs "map" $b) -}}
{{- $_ := set $out $k (include "cdcsink.merge" (dict "base" $b "over" $v) | fromYaml) -}}
{{- else -}}
{{- $_ := set $out $k $v -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/*
cdcsink.pipeline: the effective settings of one pipeline as YAML, read
with `include "cdcsink.pipeline" (dict "ctx" $ "name" $name) | fromYaml`:
.Values.defaults with the pipeline's values over it. A secret entry is
replaced whole (mixing a default's existingSecret with a pipeline's value
would be neither). The result is validated here, so every template that
uses a pipeline fails the same way on the same mistake.
*/}}
{{- define "cdcsink.pipeline" -}}
{{- $defaults := .ctx.Values.defaults -}}
{{- $own := get .ctx.Values.pipelines .name -}}
{{- $p := include "cdcsink.merge" (dict "base" (omit $defaults "secrets") "over" (omit $own "secrets")) | fromYaml -}}
{{- $secrets := dict -}}
{{- range $kind := list "env" "files" -}}
{{- $m := dict -}}
{{- range $k, $v := (dig "secrets" $kind (dict) $defaults) -}}{{- $_ := set $m $k $v -}}{{- end -}}
{{- range $k, $v := (dig "secrets" $kind (dict) $own) -}}{{- $_ := set $m $k $v -}}{{- end -}}
{{- $_ := set $secrets $kind $m -}}
{{- end -}}
{{- $_ := set $p "secrets" $secrets -}}
{{- include "cdcsink.validate" (dict "ctx" .ctx "name" .name "p" $p) -}}
{{- toYaml $p -}}
{{- end -}}

{{/*
cdcsink.isSecretKey: "true" for the keys cdcsink itself masks whole
(docs/configuration.md, "Secrets"): they must come from a Secret.
*/}}
{{- define "cdcsink.isSecretKey" -}}
{{- $k := . -}}
{{- if has $k (list "schema.registry.basic.auth.user.info" "connection.password" "connection.api.key") -}}
true
{{- else if and (hasPrefix "kafka." $k) (or (contains "password" $k) (contains "secret" $k) (contains "sasl.jaas" $k) (contains "sasl.oauthbearer.config" $k) (hasSuffix ".pem" $k) (hasSuffix "key" $k)) -}}
true
{{- end -}}
{{- end -}}

{{/*
cdcsink.validate: fails with a message naming the value to fix. Checks
what values.schema.json cannot: relations between values, and that no
secret is written in clear into the ConfigMap.
*/}}
{{- define "cdcsink.validate" -}}
{{- $name := .name -}}
{{- $p := .p -}}
{{- $where := printf "pipelines.%s" $name -}}
{{- $_ := include "cdcsink.pipelineFullname" . -}}
{{- $partitions := int64 (default 0 $p.partitions) -}}
{{- if and $partitions (not $p.keda.enabled) (gt (int64 $p.replicas) $partitions) -}}
{{- fail (printf "%s: replicas (%d) is more than partitions (%d): a consumer group gives each partition to one member, so the extra replicas would sit idle and never become ready" $where (int64 $p.replicas) $partitions) -}}
{{- end -}}
{{- if $p.keda.enabled -}}
{{- if not $partitions -}}
{{- fail (printf "%s: keda.enabled needs partitions (the partition count caps keda.maxReplicaCount)" $where) -}}
{{- end -}}
{{- $max := int64 (default $partitions $p.keda.maxReplicaCount) -}}
{{- if gt $max $partitions -}}
{{- fail (printf "%s: keda.maxReplicaCount (%d) is more than partitions (%d)" $where $max $partitions) -}}
{{- end -}}
{{- if gt (int64 $p.keda.minReplicaCount) $max -}}
{{- fail (printf "%s: keda.minReplicaCount (%d) is more than keda.maxReplicaCount (%d)" $where (int64 $p.keda.minReplicaCount) $max) -}}
{{- end -}}
{{- if eq $p.keda.trigger "prometheus" -}}
{{- if not $p.keda.prometheus.serverAddress -}}
{{- fail (printf "%s: keda.trigger prometheus needs keda.prometheus.serverAddress" $where) -}}
{{- end -}}
{{- if lt (int64 $p.keda.minReplicaCount) 1 -}}
{{- fail (printf "%s: keda.minReplicaCount 0 with the prometheus trigger would never scale up again: with no pod running, cdcsink_consumer_lag has no samples (use trigger kafka to scale from zero)" $where) -}}
{{- end -}}
{{- end -}}
{{- if and (eq $p.keda.trigger "kafka") (not (hasKey $p.config "kafka.bootstrap.servers")) -}}
{{- fail (printf "%s: keda.trigger kafka reads the brokers from config kafka.bootstrap.servers, which is not set" $where) -}}
{{- end -}}
{{- end -}}
{{- /* References: every ${env:X} and ${file:/etc/cdcsink/secrets/X} must resolve. */ -}}
{{- $envNames := keys $p.secrets.env -}}
{{- range $p.env -}}
{{- if has .name $envNames -}}
{{- fail (printf "%s: %s is defined twice, in %s.env and in %s.secrets.env (or twice in env)" $where .name $where $where) -}}
{{- end -}}
{{- $envNames = append $envNames .name -}}
{{- end -}}
{{- $configs := dict "config" $p.config -}}
{{- if and (eq $p.sink "postgres") $p.migrate.enabled -}}
{{- $_ := set $configs "migrate.config" $p.migrate.config -}}
{{- end -}}
{{- range $section, $config := $configs -}}
{{- range $k, $v := $config -}}
{{- if has $k (list "name" "sink" "http.listen") -}}
{{- fail (printf "%s.%s.%s is set by the chart: name is the pipeline's key in pipelines, sink is %s.sink, and http.listen comes from http.bindAddress and http.port (the probes, the Service and the ServiceMonitor use them)" $where $section $k $where) -}}
{{- end -}}
{{- $s := toString $v -}}
{{- range $ref := regexFindAll "\\$\\{env:[^}]*\\}" $s -1 -}}
{{- $var := trimSuffix "}" (trimPrefix "${env:" $ref) -}}
{{- if not (has $var $envNames) -}}
{{- fail (printf "%s.%s.%s refers to ${env:%s}, which neither %s.secrets.env nor %s.env defines" $where $section $k $var $where $where) -}}
{{- end -}}
{{- end -}}
{{- range $ref := regexFindAll "\\$\\{file:[^}]*\\}" $s -1 -}}
{{- $path := trimSuffix "}" (trimPrefix "${file:" $ref) -}}
{{- if not (hasPrefix "/" $path) -}}{{- $path = printf "%s/%s" (include "cdcsink.configDir" $) $path -}}{{- end -}}
{{- $dir := printf "%s/" (include "cdcsink.secretDir" $) -}}
{{- if and (hasPrefix $dir $path) (not (hasKey $p.secrets.files (trimPrefix $dir $path))) -}}
{{- fail (printf "%s.%s.%s refers to ${file:%s}, but %s.secrets.files has no %q" $where $section $k $path $where (trimPrefix $dir $path)) -}}
{{- end -}}
{{- end -}}
{{- /* No secret in clear: what is left once the references are taken out. */ -}}
{{- $bare := regexReplaceAll "\\$\\{(env|file):[^}]*\\}" $s "" -}}
{{- if and (include "cdcsink.isSecretKey" $k) (eq $bare $s) -}}
{{- fail (printf "%s.%s.%s is a secret: put the value in %s.secrets and write ${env:NAME} or ${file:%s/NAME} here, so it is not stored in clear in the ConfigMap" $where $section $k $where (include "cdcsink.secretDir" $)) -}}
{{- end -}}
{{- if has $k (list "connection.url" "schema.registry.url") -}}
{{- if or (regexMatch "://[^/@:,]*:[^@/,]+@" $bare) (regexMatch "(?i)password[a-z_.]*\\s*=\\s*[^&\\s]" $bare) -}}
{{- fail (printf "%s.%s.%s holds a password in clear: put it in %s.secrets and write ${env:NAME} in its place (e.g. postgresql://user:${env:PGPASSWORD}@host/db)" $where $section $k $where) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
cdcsink.value: one config value as text. Helm reads every number in a
values file as a float64, which would print 604800000 as 6.048e+08; the
schema admits integers only, so they print as integers.
*/}}
{{- define "cdcsink.value" -}}
{{- if kindIs "float64" . -}}{{- int64 . -}}{{- else -}}{{- . -}}{{- end -}}
{{- end -}}

{{/*
cdcsink.pipelineFile: the pipeline file of .p (`key = value` lines) with
.config as its keys (the pipeline's config, or the migrate Job's).
*/}}
{{- define "cdcsink.pipelineFile" -}}
# Rendered by the cdcsink Helm chart (release {{ .ctx.Release.Name }}, pipeline {{ .name }}).
# Keys: docs/configuration.md. Secrets are env: and file: references, never values.
name = {{ .name }}
sink = {{ .p.sink }}
http.listen = {{ .ctx.Values.http.bindAddress }}:{{ int64 .ctx.Values.http.port }}
{{- range $k, $v := .config }}
{{ $k }} = {{ include "cdcsink.value" $v }}
{{- end }}
{{ end -}}

{{/* The effective config of the migrate Job: migrate.config over config. */}}
{{- define "cdcsink.migrateConfig" -}}
{{- include "cdcsink.merge" (dict "base" .p.config "over" .p.migrate.config) -}}
{{- end -}}

{{/*
cdcsink.secretData: the data of the Secret the chart creates for a
pipeline (values given as `value`), or nothing. env.NAME and file.NAME
keep a variable and a file of the same name apart.
*/}}
{{- define "cdcsink.secretData" -}}
{{- range $n, $s := .p.secrets.env }}
{{- if hasKey $s "value" }}
env.{{ $n }}: {{ $s.value | toString | b64enc | quote }}
{{- end }}
{{- end }}
{{- range $n, $s := .p.secrets.files }}
{{- if hasKey $s "value" }}
file.{{ $n }}: {{ $s.value | toString | b64enc | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
cdcsink.terminationGracePeriod: seconds the kubelet waits after SIGTERM
before SIGKILL. cdcsink finishes the batch in flight (at most
shutdown.timeout.ms), then commits and leaves the group; SIGKILL before
that only redelivers the batch (harmless, but a slower rebalance).
*/}}
{{- define "cdcsink.terminationGracePeriod" -}}
{{- $ms := 30000 -}}
{{- if hasKey .p.config "shutdown.timeout.ms" -}}{{- $ms = int64 (get .p.config "shutdown.timeout.ms") -}}{{- end -}}
{{- add (div (add $ms 999) 1000) (int64 .p.terminationGraceExtraSeconds) -}}
{{- end -}}

{{/*
cdcsink.podSpec: the pod of a pipeline, for its Deployment, its migrate
Job and its DLQ replay Job alike (same image, config, secrets and
security context). dict keys: ctx, name, p, args (list), configMap and
secret (the object names to mount), job (bool: no probes, no port).
*/}}
{{- define "cdcsink.podSpec" -}}
{{- $ctx := .ctx -}}
{{- $p := .p -}}
{{- $secret := .secret -}}
{{- with $ctx.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $ctx.Values.serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
automountServiceAccountToken: false
{{- if .job }}
restartPolicy: Never
{{- end }}
terminationGracePeriodSeconds: {{ include "cdcsink.terminationGracePeriod" . }}
securityContext:
  {{- toYaml $ctx.Values.podSecurityContext | nindent 2 }}
{{- with $p.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $p.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $p.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $p.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if and (not .job) $p.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml $p.topologySpreadConstraints | nindent 2 }}
{{- end }}
containers:
  - name: cdcsink
    image: {{ include "cdcsink.image" $ctx }}
    imagePullPolicy: {{ $ctx.Values.image.pullPolicy }}
    args:
      {{- toYaml .args | nindent 6 }}
    {{- if or $p.secrets.env $p.env }}
    env:
      {{- range $n, $s := $p.secrets.env }}
      - name: {{ $n }}
        valueFrom:
          secretKeyRef:
            {{- if hasKey $s "value" }}
            name: {{ $secret }}
            key: env.{{ $n }}
            {{- else }}
            name: {{ $s.existingSecret }}
            key: {{ $s.key }}
            {{- end }}
      {{- end }}
      {{- with $p.env }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
    {{- end }}
    {{- if not .job }}
    ports:
      - name: http
        containerPort: {{ int64 $ctx.Values.http.port }}
        protocol: TCP
    # /healthz fails once the pipeline loop has not called in for 30 s;
    # /readyz needs partitions assigned and the sink reachable
    # (monitoring/README.md). A spare replica (more replicas than
    # partitions) stays unready: that is what it is.
    livenessProbe:
      httpGet:
        path: /healthz
        port: http
      initialDelaySeconds: 10
      periodSeconds: 10
      timeoutSeconds: 3
      failureThreshold: 3
    readinessProbe:
      httpGet:
        path: /readyz
        port: http
      periodSeconds: 5
      timeoutSeconds: 3
      failureThreshold: 3
    {{- end }}
    resources:
      {{- toYaml $p.resources | nindent 6 }}
    securityContext:
      {{- toYaml $ctx.Values.securityContext | nindent 6 }}
    volumeMounts:
      - name: config
        mountPath: {{ include "cdcsink.configDir" . }}
        readOnly: true
      # The root filesystem is read-only; a scratch /tmp costs nothing.
      - name: tmp
        mountPath: /tmp
      {{- with $p.extraVolumeMounts }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
volumes:
  # One projected volume: the pipeline file at /etc/cdcsink/pipeline.properties
  # and each secret file at /etc/cdcsink/secrets/NAME, where the pipeline
  # file's ${file:...} references point.
  - name: config
    projected:
      defaultMode: 288 # 0440: read-only, for the pod's fsGroup
      sources:
        - configMap:
            name: {{ .configMap }}
            items:
              - key: pipeline.properties
                path: pipeline.properties
        {{- $own := list -}}
        {{- range $n, $s := $p.secrets.files }}
        {{- if hasKey $s "value" }}{{ $own = append $own $n }}{{ end }}
        {{- end }}
        {{- if $own }}
        - secret:
            name: {{ $secret }}
            items:
              {{- range $own }}
              - key: file.{{ . }}
                path: secrets/{{ . }}
              {{- end }}
        {{- end }}
        {{- range $n, $s := $p.secrets.files }}
        {{- if not (hasKey $s "value") }}
        - secret:
            name: {{ $s.existingSecret }}
            items:
              - key: {{ $s.key }}
                path: secrets/{{ $n }}
        {{- end }}
        {{- end }}
  - name: tmp
    emptyDir:
      medium: Memory
      sizeLimit: 16Mi
  {{- with $p.extraVolumes }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}
