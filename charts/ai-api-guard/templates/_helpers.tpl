{{/* Names and labels shared by every object of the chart. */}}

{{- define "ai-api-guard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The objects' name: the release name, or release-chart when the release name does not contain the chart's. */}}
{{- define "ai-api-guard.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "ai-api-guard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ai-api-guard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "ai-api-guard.labels" -}}
{{ include "ai-api-guard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{/* The namespaces the webhook never sees, as a JSON list: the configured ones and the release's own. */}}
{{- define "ai-api-guard.exemptNamespaces" -}}
{{- append .Values.exemptNamespaces .Release.Namespace | uniq | toJson }}
{{- end }}

{{/* A map as the command line's key=value,key2=value2. */}}
{{- define "ai-api-guard.pairs" -}}
{{- $pairs := list }}
{{- range $key, $value := . }}
{{- $pairs = append $pairs (printf "%s=%s" $key $value) }}
{{- end }}
{{- join "," $pairs }}
{{- end }}

{{/* cert-manager's CA injector fills the caBundle from the Certificate; otherwise the operator's leader does. */}}
{{- define "ai-api-guard.webhookAnnotations" -}}
{{- if .Values.certManager.enabled -}}
cert-manager.io/inject-ca-from: {{ .Release.Namespace }}/{{ include "ai-api-guard.fullname" . }}
{{- else -}}
aiapiguard.dev/ca-bundle-from: {{ .Release.Namespace }}/{{ include "ai-api-guard.fullname" . }}-tls
{{- end }}
{{- end }}

{{- define "ai-api-guard.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{/* A third of a duration like 2160h or 90s, in seconds: cert-manager renews then, as the operator does. */}}
{{- define "ai-api-guard.renewBefore" -}}
{{- $unit := substr (int (sub (len .) 1)) (len .) . }}
{{- $count := trimSuffix $unit . | int }}
{{- $factor := get (dict "s" 1 "m" 60 "h" 3600) $unit }}
{{- printf "%ds" (div (mul $count $factor) 3) }}
{{- end }}
