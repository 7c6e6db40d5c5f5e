// Manifests the cluster tests apply with kubectl.

/** A Deployment whose pods are labelled app=<name> (plus `labels`), with one container and these env entries (YAML flow). */
export function deploymentYaml(namespace: string, name: string, env: string, labels = ""): string {
  return `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}${labels ? `, ${labels}` : ""}}}
    spec:
      containers: [{name: app, image: app:1, env: [${env}]}]
`;
}
