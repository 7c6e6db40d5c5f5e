import { describe, expect, it } from "vitest";
import { atConflictField, onlyEmptyOwnedConflicts } from "../../../src/controller/empty-owned.ts";
import { ApiError } from "../../../src/kube/errors.ts";

const intent = {
  metadata: { name: "app", annotations: { "nginx.ingress.kubernetes.io/limit-rps": "5" } },
  spec: {
    template: {
      spec: {
        volumes: [{ name: "aiapiguard-p", secret: { secretName: "key", defaultMode: 256 } }],
        containers: [{ name: "app", volumeMounts: [{ name: "aiapiguard-p", mountPath: "/k", readOnly: true }] }],
      },
    },
  },
};

/** The API server's answer to an apply that conflicts on these fields. */
const conflict = (...fields: string[]) =>
  new ApiError(409, {
    kind: "Status",
    reason: "Conflict",
    code: 409,
    details: {
      causes: fields.map((field) => ({ type: "FieldManagerConflict", message: 'conflict with "helm"', field })),
    },
  });

describe("a conflict of a server-side apply", () => {
  it("takes nothing from anyone when it is only on maps and lists the intent fills (another applied them empty)", () => {
    expect(onlyEmptyOwnedConflicts(conflict(".metadata.annotations"), intent)).toBe(true);
    expect(
      onlyEmptyOwnedConflicts(
        conflict(".spec.template.spec.volumes", '.spec.template.spec.containers[name="app"].volumeMounts'),
        intent,
      ),
    ).toBe(true);
  });

  it("takes something when it is on a value the intent sets, or on anything the intent does not hold", () => {
    const mode = '.spec.template.spec.volumes[name="aiapiguard-p"].secret.defaultMode';
    expect(onlyEmptyOwnedConflicts(conflict(".metadata.annotations", mode), intent)).toBe(false);
    expect(
      onlyEmptyOwnedConflicts(conflict(".metadata.annotations.nginx.ingress.kubernetes.io/limit-rps"), intent),
    ).toBe(false);
    expect(onlyEmptyOwnedConflicts(conflict('.spec.template.spec.containers[name="other"].volumeMounts'), intent)).toBe(
      false,
    );
    expect(onlyEmptyOwnedConflicts(conflict(), intent)).toBe(false);
    expect(onlyEmptyOwnedConflicts(new ApiError(422, { kind: "Status" }), intent)).toBe(false);
  });

  it("names list members by their keys", () => {
    expect(
      atConflictField(intent, '.spec.template.spec.containers[name="app"].volumeMounts[mountPath="/k"].readOnly'),
    ).toBe(true);
    expect(atConflictField(intent, '.spec.template.spec.containers[name="app",image="x"]')).toBeUndefined();
  });
});
