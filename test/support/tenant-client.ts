// Non-admin clients of the API server, as a tenant or a CI system would be: a ServiceAccount with one
// Role, a token from the TokenRequest API, and raw HTTPS requests that report which API Priority and
// Fairness level served them (the admin's client certificate is system:masters, which APF exempts).
import { Agent, type RequestOptions, request } from "node:https";
import * as k8s from "@kubernetes/client-node";

/** Each request gives up after this; the API server ends a request at 60 s. */
const CLIENT_TIMEOUT_MS = 90_000;
/** A non-admin identity talking HTTPS to the API server with its own keep-alive connections. */
export interface Client {
  server: string;
  options: RequestOptions;
}

/** What the API server answered: the status, the APF priority level it classified the request into, the body. */
export interface Answer {
  status: number;
  levelUid: string;
  text: string;
}

export function send(client: Client, method: "GET" | "POST", path: string, body?: Buffer): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(
      `${client.server}${path}`,
      {
        ...client.options,
        method,
        headers: { ...client.options.headers, "content-type": "application/json" },
        timeout: CLIENT_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            levelUid: String(res.headers["x-kubernetes-pf-prioritylevel-uid"] ?? ""),
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${CLIENT_TIMEOUT_MS / 1000} s`)));
    req.on("error", (error) => resolve({ status: 0, levelUid: "", text: `client: ${error.message}` }));
    req.end(body);
  });
}

/** The message of a Status answer, else the start of the text. */
export function messageOf({ text }: Answer): string {
  try {
    return String(JSON.parse(text).message ?? "");
  } catch {
    return text.slice(0, 300);
  }
}

/** A ServiceAccount allowed to create `resource` in its namespace, and a client with a token for it. */
export async function tenant(
  admin: k8s.KubeConfig,
  namespace: string,
  name: string,
  rule: k8s.V1PolicyRule,
  connections: number,
): Promise<Client> {
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules: [rule] } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [{ kind: "ServiceAccount", name, namespace }],
    },
  });
  const token = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ ...admin.getCurrentCluster(), name: "local" }],
    users: [{ name, token: token.status?.token }],
    contexts: [{ name, cluster: "local", user: name, namespace }],
    currentContext: name,
  });
  return clientOf(kc, connections);
}

export async function clientOf(kc: k8s.KubeConfig, connections: number): Promise<Client> {
  const options: RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  const { ca, cert, key } = options;
  options.agent = new Agent({ ca, cert, key, keepAlive: true, maxSockets: connections });
  return { server: kc.getCurrentCluster()?.server ?? "", options };
}
