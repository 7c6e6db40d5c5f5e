import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { ApiError } from "../../../src/kube/errors.ts";
import { type Cached, informer } from "../../../src/kube/informer.ts";
import { resources } from "../../../src/kube/resources.ts";
import type { KubeRest, RawObject } from "../../../src/kube/rest.ts";

/** An API server whose resource goes away (its CRD deleted) while a watch is open, the deletions unseen. */
function servedThenGone(): KubeRest {
  let lists = 0;
  const item = { metadata: { name: "openai", namespace: "ml-team", resourceVersion: "5" } };
  return {
    request: async () => {
      lists++;
      if (lists > 1) throw new ApiError(404, { kind: "Status", reason: "NotFound", code: 404 });
      return { metadata: { resourceVersion: "5" }, items: [item] };
    },
    watch: async () => {
      throw new ApiError(404, { kind: "Status", reason: "NotFound", code: 404 });
    },
  } as unknown as KubeRest;
}

describe("the informer", () => {
  it("empties its cache when the resource is no longer served, as the list would say", async () => {
    const cache = informer<Cached>({
      rest: servedThenGone(),
      resource: resources.policy,
      transform: (raw: RawObject) => raw as Cached,
      logger: pino({ level: "silent" }),
      maxBackoffMs: 50,
    });
    const deleted: string[] = [];
    cache.on((event) => event.type === "delete" && deleted.push(event.object.metadata.name));
    cache.start();
    await cache.waitForSync();
    // Before, the objects of a resource that was gone stayed (a deleted CRD's policies enforced until it came back).
    for (let i = 0; i < 50 && cache.list().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    await cache.stop();
    expect(cache.list()).toEqual([]);
    expect(deleted).toEqual(["openai"]);
    expect(cache.synced()).toBe(true);
  });
});
