// Which connections the cap closes, as a pure choice: the order that keeps the API server's reviews alive
// while idle or stalled sockets fill the server. The socket-level behaviour is in availability.test.ts.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { connectionsToClose, HEADERS_GRACE_MS, type SocketState } from "../../../src/webhook/guard.ts";

const NOW = 10_000;
const BURST = NOW - 5;
const states = (entries: [string, SocketState][]) => new Map(entries);
const silent = (arrivedAt: number): SocketState => ({ arrivedAt, busy: 0, served: 0 });
const begun = (beganAt: number): SocketState => ({ arrivedAt: beganAt, beganAt, busy: 0, served: 0 });
const idle: SocketState = { arrivedAt: 0, beganAt: 1, busy: 0, served: 3 };
const busy: SocketState = { arrivedAt: 0, beganAt: 1, busy: 1, served: 0 };
const stalled = begun(NOW - HEADERS_GRACE_MS - 1);
const clock = { now: NOW, burstStart: BURST };

describe("the connections the cap closes", () => {
  it("takes, in turn, the silent ones, the stalled, the idle keep-alive, then this burst's silent newcomers", () => {
    const connections = states([
      ["idle", idle],
      ["newcomer-1", silent(BURST)],
      ["stalled", stalled],
      ["silent", silent(1)],
      ["newcomer-2", silent(BURST + 1)],
    ]);
    expect(connectionsToClose(connections, 5, clock)).toEqual([
      "silent",
      "stalled",
      "idle",
      "newcomer-2",
      "newcomer-1",
    ]);
  });

  it("keeps a connection whose request began within the grace, and a busy one, while any other can go", () => {
    const connections = states([
      ["review", begun(NOW - 10)],
      ["busy", busy],
      ["idle", idle],
    ]);
    expect(connectionsToClose(connections, 1, clock)).toEqual(["idle"]);
  });

  it("holds the cap when every connection is in the middle of a request: the newest go", () => {
    const connections = states([
      ["busy", busy],
      ["review", begun(NOW - 10)],
    ]);
    expect(connectionsToClose(connections, 1, clock)).toEqual(["review"]);
    expect(connectionsToClose(connections, 0, clock)).toEqual([]);
  });

  it("closes exactly as many as asked, each once, and a busy one only when nothing else is left", () => {
    const state = fc.oneof(
      fc.record({ arrivedAt: fc.integer({ min: 0, max: NOW }), busy: fc.constant(0), served: fc.constant(0) }),
      fc
        .record({
          beganAt: fc.integer({ min: 0, max: NOW }),
          busy: fc.integer({ min: 0, max: 2 }),
          served: fc.integer({ min: 0, max: 3 }),
        })
        .map((s) => ({ ...s, arrivedAt: s.beganAt })),
    );
    fc.assert(
      fc.property(fc.array(state, { maxLength: 30 }), fc.integer({ min: 0, max: 40 }), (list, count) => {
        const connections = new Map(list.map((s, i) => [i, s as SocketState]));
        const chosen = connectionsToClose(connections, count, clock);
        expect(chosen).toHaveLength(Math.min(count, list.length));
        expect(new Set(chosen).size).toBe(chosen.length);
        const busyChosen = chosen.some((i) => (connections.get(i) as SocketState).busy > 0);
        const idleLeft = [...connections].some(
          ([i, s]) => s.busy === 0 && s.beganAt === undefined && !chosen.includes(i),
        );
        expect(busyChosen && idleLeft).toBe(false);
      }),
    );
  });
});
