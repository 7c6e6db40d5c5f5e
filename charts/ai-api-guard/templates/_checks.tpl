{{/*
Values that each pass the schema but contradict one another, refused at `helm install` rather than
found later as a pod that will not start or a node drain that never ends. The operator checks the
first two again at start-up (src/config/settings.ts).
*/}}
{{- define "ai-api-guard.checkValues" -}}
{{- $le := .Values.leaderElection }}
{{- if ge (int $le.renewDeadlineSeconds) (int $le.leaseDurationSeconds) }}
{{- fail "leaderElection.renewDeadlineSeconds must be shorter than leaderElection.leaseDurationSeconds" }}
{{- end }}
{{- if gt (int .Values.webhook.reviewBudgetMs) (sub (mul (int .Values.webhook.timeoutSeconds) 1000) 500 | int) }}
{{- fail "webhook.reviewBudgetMs must end at least 500 ms before webhook.timeoutSeconds (the API server's wait): lower it or raise timeoutSeconds" }}
{{- end }}
{{- $pdb := .Values.podDisruptionBudget }}
{{- if and $pdb.enabled (ge (int $pdb.minAvailable) (int .Values.replicaCount)) }}
{{- fail (printf "podDisruptionBudget.minAvailable %d with replicaCount %d lets no replica be evicted, so node drains never end: raise replicaCount or set podDisruptionBudget.enabled=false" (int $pdb.minAvailable) (int .Values.replicaCount)) }}
{{- end }}
{{- end }}
