// Every way a key can reach the cluster, tried through kubectl and the real kube-apiserver: updates that
// keep or add findings, large objects, ephemeral containers, objects being deleted, exemptions that
// need RBAC, the action floor, and dry runs counted by user. The operator reviews only this file's
// namespaces.
import { randomBytes, randomUUID } from "node:crypto";
import { Agent, request } from "node:https";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { kubeConfig, kubeconfigPath, kubectl } from "../support/cluster.ts";
import { installCrds } from "../support/crds.ts";
import { eventually } from "../support/eventually.ts";
import { fakeSecrets } from "../support/fake-secrets.ts";
import { type Operator, startOperator } from "../support/operator.ts";

const run = randomBytes(3).toString("hex");
const selector = { "aiapiguard-paths": run };
const ns = `paths-${run}`;
const lax = `paths-lax-${run}`;
const secrets = fakeSecrets(Number.parseInt(run, 16) + 1);
const KEY = secrets.openai as string;
const OTHER_KEY = secrets.anthropic as string;
const DENIED = 'admission webhook "validate.aiapiguard.dev" denied the request:';

const core = () => kubeConfig().makeApiClient(k8s.CoreV1Api);
const apply = (object: object, ...args: string[]) =>
  kubectl(["apply", ...args, "-f", "-"], { input: stringify(object) });

function deployment(name: string, env: Record<string, string>, annotations: Record<string, string> = {}) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: ns, annotations },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: "app",
              image: "registry.example/app:1",
              env: Object.entries(env).map(([n, value]) => ({ name: n, value })),
            },
          ],
        },
      },
    },
  };
}

let operator: Operator;

/** A custom resource's operator that the cluster admin trusts to copy its resources' pod templates. */
const KUBERAY = "system:serviceaccount:ray-system:kuberay-operator";

beforeAll(async () => {
  await installCrds();
  await core().createNamespace({ body: { metadata: { name: ns } } }); // labelled for review below
  await core().createNamespace({ body: { metadata: { name: lax, labels: selector } } });
  // A Deployment with a key from before the webhook reviewed this namespace (installed after it).
  const legacy = await apply(deployment("legacy", { OPENAI_API_KEY: KEY }));
  expect(legacy.code, legacy.stderr).toBe(0);
  const labelled = await kubectl(["label", "namespace", ns, `aiapiguard-paths=${run}`]);
  expect(labelled.code, labelled.stderr).toBe(0);
  // dev-user, prober and pod-writer may write workloads in both namespaces, nothing more (no policies, no namespaces).
  for (const namespace of [ns, lax]) {
    const role = await apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "developer", namespace },
      rules: [
        { apiGroups: ["apps"], resources: ["deployments"], verbs: ["*"] },
        { apiGroups: [""], resources: ["pods"], verbs: ["create"] },
      ],
    });
    const binding = await apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "developer", namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "developer" },
      subjects: ["dev-user", "prober", "pod-writer", KUBERAY].map((name) => ({
        kind: "User",
        name,
        apiGroup: "rbac.authorization.k8s.io",
      })),
    });
    expect(role.code + binding.code, role.stderr + binding.stderr).toBe(0);
  }
  operator = await startOperator(kubeconfigPath(), [
    "--webhook-config-name",
    `paths-${run}`,
    "--namespace-selector",
    `aiapiguard-paths=${run}`,
    "--trusted-controllers",
    KUBERAY,
  ]);
});

afterAll(async () => {
  await operator?.stop();
  for (const name of [ns, lax])
    await core()
      .deleteNamespace({ name })
      .catch(() => undefined);
});

describe("updates", () => {
  it("admits an update of a Deployment whose key predates the webhook, with a warning, and refuses a new key", async () => {
    const annotated = await kubectl(["annotate", "deployment", "legacy", "-n", ns, "owner=ml-team"]);
    expect(annotated.code, annotated.stderr).toBe(0);
    expect(annotated.stderr).toContain("already there: admitted, fix it");
    const restarted = await kubectl(["rollout", "restart", "deployment", "legacy", "-n", ns]);
    expect(restarted.code, restarted.stderr).toBe(0);

    const added = await apply(deployment("legacy", { OPENAI_API_KEY: KEY, ANTHROPIC_API_KEY: OTHER_KEY }));
    expect(added.code).not.toBe(0);
    expect(added.stderr).toContain(DENIED);
    expect(added.stderr).toContain("has 1 finding");
    expect(added.stderr).toContain("Anthropic");
  });

  it("creates and updates a 0.9 MiB HTML ConfigMap (its review grows past 3 MiB with the API server's escapes)", async () => {
    const page = (title: string) => {
      const row = "<tr><td>&nbsp;<a href='/docs'>docs</a></td><td><b>ok</b></td></tr>\n";
      return `<html><head><title>${title}</title></head><body><table>\n${row.repeat(Math.floor((0.9 * 2 ** 20) / row.length))}</table></body></html>`;
    };
    const configMap = (title: string) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "site", namespace: ns },
      data: { "index.html": page(title) },
    });
    const created = await kubectl(["create", "-f", "-"], { input: JSON.stringify(configMap("v1")) });
    expect(created.code, created.stderr).toBe(0);
    const replaced = await kubectl(["replace", "-f", "-"], { input: JSON.stringify(configMap("v2")) });
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(replaced.stdout).toContain("configmap/site replaced");
  });
});

describe("in-cluster names", () => {
  // A namespace named like a top-level domain: offline, http://model.<it> is a public host; here the
  // cluster has it, so the webhook knows the name is in-cluster. Deleted after; random, as a terminating
  // one from an earlier run would refuse the name.
  const tlds = ["coffee", "pizza", "ninja", "guru", "codes", "zone", "tools", "works"];
  const tld = tlds[Number.parseInt(run, 16) % tlds.length] as string;
  const absent = tlds.find((name) => name !== tld) as string;
  const endpoint = (name: string, url: string) => deployment(name, { LLM_BASE_URL: url });
  const plaintext = (host: string) =>
    `plaintext-endpoint in container "app" at spec.template.spec.containers[0].env[0].value: http://${host}.`;

  afterAll(() =>
    core()
      .deleteNamespace({ name: tld })
      .catch(() => undefined),
  );

  it("admits http://<service>.<namespace> for a namespace the cluster has, even one named like a public domain", async () => {
    const refused = await apply(endpoint("tld-before", `http://model.${tld}:8080/v1`), "--dry-run=server");
    expect(refused.stderr).toContain(
      `plaintext-endpoint in container "app" at spec.template.spec.containers[0].env[0].value: http://model.${tld}.`,
    );
    await core().createNamespace({ body: { metadata: { name: tld } } });
    // The namespace informer sees it within a watch event.
    const admitted = await eventually(
      async () => {
        const result = await apply(endpoint("tld", `http://model.${tld}:8080/v1`), "--dry-run=server");
        return result.code === 0 ? result : undefined;
      },
      10_000,
      "the new namespace known to the webhook",
    );
    expect(admitted.stderr).not.toContain("plaintext-endpoint");
  });

  it("refuses http://<service>.<name> when the cluster has no such namespace, public domain or not", async () => {
    const tldHost = await apply(endpoint("absent-tld", `http://model.${absent}:8080/v1`), "--dry-run=server");
    expect(tldHost.stderr).toContain(DENIED);
    expect(tldHost.stderr).toContain(
      `plaintext-endpoint in container "app" at spec.template.spec.containers[0].env[0].value: http://model.${absent}.`,
    );
    // Offline this counts as in-cluster (no public suffix); the cluster's namespaces are authoritative.
    const unknown = await apply(endpoint("absent-ns", `http://model.nowhere-${run}:8080/v1`), "--dry-run=server");
    expect(unknown.stderr).toContain(plaintext(`model.nowhere-${run}`));
    const known = await apply(endpoint("known-ns", `http://model.${lax}:8080/v1`), "--dry-run=server");
    expect(known.code, known.stderr).toBe(0);
  });
});

describe("paths around the object", () => {
  it("refuses a key added through kubectl debug (pods/ephemeralcontainers)", async () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "target", namespace: ns },
      spec: { containers: [{ name: "app", image: "registry.example/app:1" }] },
    };
    const created = await apply(pod);
    expect(created.code, created.stderr).toBe(0);
    const debug = await kubectl([
      "debug",
      "target",
      "-n",
      ns,
      "--image=busybox",
      `--env=OPENAI_API_KEY=${KEY}`,
      "--attach=false",
    ]);
    expect(debug.code).not.toBe(0);
    expect(debug.stderr).toContain(DENIED);
    expect(debug.stderr).toContain("ephemeralContainers");
    const stored = await kubectl(["get", "pod", "target", "-n", ns, "-o", "json"]);
    expect(stored.stdout).not.toContain("OPENAI_API_KEY");
  });

  it("reviews updates of an object held by a finalizer: a key refused, the finalizer's removal admitted", async () => {
    const held = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "held", namespace: ns, finalizers: ["example.com/hold"] },
      data: { MODEL: "gpt-5" },
    };
    expect((await apply(held)).code).toBe(0);
    expect((await kubectl(["delete", "configmap", "held", "-n", ns, "--wait=false"])).code).toBe(0);
    const keyed = await kubectl([
      "patch",
      "configmap",
      "held",
      "-n",
      ns,
      "--type=merge",
      "-p",
      JSON.stringify({ data: { OPENAI_API_KEY: KEY } }),
    ]);
    expect(keyed.code).not.toBe(0);
    expect(keyed.stderr).toContain(DENIED);
    const released = await kubectl([
      "patch",
      "configmap",
      "held",
      "-n",
      ns,
      "--type=json",
      "-p",
      '[{"op":"remove","path":"/metadata/finalizers"}]',
    ]);
    expect(released.code, released.stderr).toBe(0);
  });
});

describe("exemptions and the floor", () => {
  const dev = ["--as=dev-user", "--as-group=developers"];

  it("does not honour an exemption annotation from a user without the exempt verb, and does once granted", async () => {
    const exempt = deployment("exempted", { OPENAI_API_KEY: KEY }, { "aiapiguard.dev/exempt": "hardcoded-secret" });
    const refused = await apply(exempt, ...dev);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("was not honoured: dev-user may not grant exemptions");
    const role = await apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "exempter", namespace: ns },
      rules: [{ apiGroups: ["aiapiguard.dev"], resources: ["aiapipolicies"], verbs: ["exempt"] }],
    });
    const grant = await apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "exempter", namespace: ns },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "exempter" },
      subjects: [{ kind: "User", name: "dev-user", apiGroup: "rbac.authorization.k8s.io" }],
    });
    expect(role.code + grant.code).toBe(0);
    // Answers are cached for 10 s: the grant takes effect within that.
    // Polled with server-side dry runs, which leave no Event: a retry loop of real applies would spend the
    // Deployment's Event budget (25, as client-go's spam filter) on refusals before the exemption's turn.
    await eventually(async () => (await apply(exempt, "--dry-run=server", ...dev)).code === 0, 20_000, "the grant");
    const admitted = await apply(exempt, ...dev);
    expect(admitted.code, admitted.stderr).toBe(0);
    expect(admitted.stderr).toContain("exempted by annotation aiapiguard.dev/exempt");
    const event = await eventually(async () => {
      const list = await kubectl([
        "get",
        "events",
        "-n",
        ns,
        "--field-selector",
        "reason=AdmissionExempted",
        "-o",
        "json",
      ]);
      // The ReplicaSet and Pods that the cluster's controllers create from it are exempted too: find the Deployment's.
      const items = JSON.parse(list.stdout).items as k8s.CoreV1Event[];
      return items.find((e) => e.involvedObject.kind === "Deployment");
    });
    expect(event.message).toContain("granted to dev-user");
    expect(operator.output()).toContain('"exemptionGranted":true');
  });

  it("honours an exemption on a Pod that the replicaset-controller or a trusted operator creates for its controller owner, and only then", async () => {
    // What kube-controller-manager does with --use-service-account-credentials (here it runs as an admin,
    // who may grant anything): the Pod copies the exempted template and names its ReplicaSet as controller.
    const owner = { apiVersion: "apps/v1", kind: "ReplicaSet", name: "exempted-5d8f", uid: randomUUID() };
    const pod = (ownerReferences: object[]) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "exempted-5d8f-x2x",
        namespace: ns,
        annotations: { "aiapiguard.dev/exempt": "hardcoded-secret" },
        ownerReferences,
      },
      spec: { containers: [{ name: "app", image: "registry.example/app:1", env: [{ name: "K", value: KEY }] }] },
    });
    // create, not apply: the replicaset-controller may create Pods but not get them, as apply would first.
    const create = (object: object, ...args: string[]) =>
      kubectl(["create", "--dry-run=server", ...args, "-f", "-"], { input: stringify(object) });
    const controller = "--as=system:serviceaccount:kube-system:replicaset-controller";
    const admitted = await create(pod([{ ...owner, controller: true }]), controller);
    expect(admitted.code, admitted.stderr).toBe(0);
    expect(admitted.stderr).toContain("exempted by annotation aiapiguard.dev/exempt");
    const orphan = await create(pod([]), controller);
    expect(orphan.stderr).toContain(DENIED);
    expect(orphan.stderr).toContain(
      "was not honoured: system:serviceaccount:kube-system:replicaset-controller may not grant exemptions",
    );
    const impostor = await create(pod([{ ...owner, controller: true }]), "--as=pod-writer");
    expect(impostor.stderr).toContain(DENIED);
    expect(impostor.stderr).toContain("was not honoured: pod-writer may not grant exemptions");
    // KubeRay, named in --trusted-controllers, creating a head Pod for its RayCluster; and with no owner.
    const rayCluster = {
      apiVersion: "ray.io/v1",
      kind: "RayCluster",
      name: "llm",
      uid: randomUUID(),
      controller: true,
    };
    const copied = await create(pod([rayCluster]), `--as=${KUBERAY}`);
    expect(copied.code, copied.stderr).toBe(0);
    expect(copied.stderr).toContain("exempted by annotation aiapiguard.dev/exempt");
    const uncopied = await create(pod([]), `--as=${KUBERAY}`);
    expect(uncopied.stderr).toContain(`was not honoured: ${KUBERAY} may not grant exemptions`);
  });

  it("keeps Deny for a selector-everything Audit policy unless a cluster admin lowered the namespace's floor", async () => {
    for (const namespace of [ns, lax]) {
      const audit = await apply({
        apiVersion: "aiapiguard.dev/v1alpha1",
        kind: "AiApiPolicy",
        metadata: { name: "everything", namespace },
        spec: {
          api: { endpoint: "https://api.example.com/v1", authType: "APIKey", sensitivity: "High" },
          selector: {},
          admission: { action: "Audit" },
        },
      });
      expect(audit.code, audit.stderr).toBe(0);
    }
    const floored = await eventually(async () => {
      const result = await apply(deployment("floored", { OPENAI_API_KEY: KEY }), "--dry-run=server", ...dev);
      return result.stderr.includes("below the action floor Deny") ? result : undefined;
    });
    expect(floored.code).not.toBe(0);
    const labelled = await kubectl(["label", "namespace", lax, "aiapiguard.dev/action-floor=Audit"]);
    expect(labelled.code, labelled.stderr).toBe(0);
    // A developer cannot set that label: namespaces are cluster-scoped and their role cannot patch them.
    const self = await kubectl(["label", "namespace", ns, "aiapiguard.dev/action-floor=Audit", ...dev]);
    expect(self.stderr).toContain("forbidden");
    const inLax = { ...deployment("floored", { OPENAI_API_KEY: KEY }), metadata: { name: "floored", namespace: lax } };
    const audited = await eventually(async () => {
      const result = await apply(inLax, ...dev);
      return result.code === 0 ? result : undefined;
    }, 20_000);
    expect(audited.stderr).toBe("");
  });
});

describe("probing", () => {
  it("counts refused server-side dry runs by user", async () => {
    for (let i = 0; i < 3; i++) {
      const probe = await apply(deployment(`probe-${i}`, { OPENAI_API_KEY: KEY }), "--dry-run=server", "--as=prober");
      expect(probe.stderr).toContain(DENIED);
    }
    const metrics = await get(`${operator.url}/metrics`);
    expect(metrics).toContain('aiapiguard_admission_dry_run_refusals_total{user="prober"} 3');
  });
});

/** GET over TLS, trusting the operator's self-signed certificate (loopback only). */
function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: new Agent({ rejectUnauthorized: false }) }, (res) => {
      let body = "";
      res.on("data", (chunk) => {
        body += chunk;
      });
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    req.end();
  });
}
