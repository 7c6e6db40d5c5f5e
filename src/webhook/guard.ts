// Two bounds that keep a client which opens many connections, or sends many large bodies, from
// starving the API server's reviews. Connections: past the cap, one connection is closed to make room,
// in this order: the oldest that has sent nothing yet; the oldest whose request began over a second ago
// and whose headers are still coming (a client that sends them a byte at a time); the oldest idle
// keep-alive one (the API server's own, which have served reviews: Go retries a review on such a
// connection when it finds it closed); then the newest of those that arrived in the same burst and have
// sent nothing, which is how a full server refuses newcomers. A connection whose request began within
// the second is not closed for room while any of those is left: under a flood of handshakes its bytes
// can wait that long to be parsed, and closing it loses a review. The cap is enforced once per turn of
// the event loop, after the reads of that turn, so a review that arrived with its handshake counts. A
// connection that has sent nothing yet is held like an idle keep-alive one, not cut at the request
// timeout: the API server keeps spares. Bodies: the bytes of the requests being read or handled are
// bounded (the server charges them: small bodies as announced, large ones as they arrive); past it, a
// request is answered 503.
import type { Server } from "node:https";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";

export interface Guard {
  /** Reserves `bytes` for a body; false when the budget is spent. Release it when the request ends. */
  reserve(bytes: number): boolean;
  release(bytes: number): void;
}

/**
 * `maxConnections` TLS connections with the eviction above; TCP connections still in their handshake
 * (bounded in time by the handshake timeout) up to as many again, then refused at accept.
 */
export function guardConnections(server: Server, maxConnections: number): void {
  server.maxConnections = 2 * maxConnections;
  // Insertion order is age: the first socket of a kind is the oldest of that kind.
  const sockets = new Map<Socket, SocketState>();
  handToHttpOnFirstBytes(server, (socket) => {
    const state = sockets.get(socket);
    if (state) state.beganAt = performance.now();
  });
  // The cap is enforced once per turn of the event loop, after the turn's reads: in a burst of handshakes
  // a review's first bytes are read in the same turn as its handshake, and then its connection counts as begun.
  let burstStart: number | undefined;
  server.on("secureConnection", (socket: Socket) => {
    const arrivedAt = performance.now();
    sockets.set(socket, { arrivedAt, busy: 0, served: 0 });
    socket.once("close", () => sockets.delete(socket));
    if (sockets.size > maxConnections && burstStart === undefined) {
      burstStart = arrivedAt;
      setImmediate(() => {
        trim(sockets, maxConnections, burstStart as number);
        burstStart = undefined;
      });
    }
  });
  server.on("request", (request, response) => {
    const state = sockets.get(request.socket);
    if (!state) return;
    state.busy++;
    response.once("close", () => {
      state.busy--;
      state.served++;
    });
  });
}

/**
 * Node's HTTP layer starts a connection's request timeout when it takes the connection, and closes one
 * that has sent nothing by then with an unsolicited 408. But the API server's client (Go) dials spare
 * connections under load and keeps them idle for up to 90 s, and a review it writes on a spare the
 * webhook has just closed fails (`write tcp ...: broken pipe`) with no retry: Go retries only on a
 * connection that has served a request. So HTTP takes a connection when its first bytes arrive; until
 * then the connection is held like an idle keep-alive one (server.keepAliveTimeout), and the cap
 * bounds how many are held.
 */
function handToHttpOnFirstBytes(server: Server, onFirstBytes: (socket: TLSSocket) => void): void {
  const http = server.listeners("secureConnection")[0] as ((socket: TLSSocket) => void) | undefined;
  if (http?.name !== "connectionListener") throw new Error("the HTTPS server's connection listener was not found");
  server.removeListener("secureConnection", http);
  server.on("secureConnection", (socket: TLSSocket) => {
    socket.setTimeout(server.keepAliveTimeout, () => socket.destroy());
    socket.once("readable", () => {
      socket.setTimeout(0);
      onFirstBytes(socket);
      http.call(server, socket);
    });
  });
}

export interface SocketState {
  /** When its handshake ended (performance.now()). */
  arrivedAt: number;
  /** When its first bytes arrived (performance.now()); undefined while it has sent nothing. */
  beganAt?: number;
  /** Requests in progress (after their headers). */
  busy: number;
  /** Requests answered. */
  served: number;
}

/** How long a request's headers may take to arrive before its connection may be closed to make room. */
export const HEADERS_GRACE_MS = 1_000;

/** Closes connections until `max` remain, those `connectionsToClose` picks. */
function trim(sockets: Map<Socket, SocketState>, max: number, burstStart: number): void {
  for (const socket of connectionsToClose(sockets, sockets.size - max, { now: performance.now(), burstStart })) {
    sockets.delete(socket);
    socket.destroy();
  }
}

/**
 * The `count` connections to close, in the order above; `connections` in the order they arrived. Those that
 * arrived in this burst (from `burstStart`) and have sent nothing come after the idle keep-alive ones, newest
 * first: a full server refuses newcomers. If that is not enough, every other connection is in the middle of a
 * request, and the newest of them are closed all the same, to hold the cap.
 */
export function connectionsToClose<K>(
  connections: ReadonlyMap<K, SocketState>,
  count: number,
  { now, burstStart }: { now: number; burstStart: number },
): K[] {
  if (count <= 0) return [];
  const stalledSince = now - HEADERS_GRACE_MS;
  const silent: K[] = [];
  const stalled: K[] = [];
  const idle: K[] = [];
  const newcomers: K[] = [];
  for (const [key, state] of connections) {
    if (state.beganAt === undefined) (state.arrivedAt < burstStart ? silent : newcomers).push(key);
    else if (state.busy === 0 && state.served === 0 && state.beganAt < stalledSince) stalled.push(key);
    else if (state.busy === 0 && state.served > 0) idle.push(key);
  }
  const chosen = [...silent, ...stalled, ...idle, ...newcomers.reverse()].slice(0, count);
  if (chosen.length < count) {
    const picked = new Set(chosen);
    const rest = [...connections.keys()].filter((key) => !picked.has(key));
    chosen.push(...rest.reverse().slice(0, count - chosen.length));
  }
  return chosen;
}

export function bodyBudget(maxBytes: number): Guard {
  let reserved = 0;
  return {
    reserve(bytes) {
      if (reserved + bytes > maxBytes) return false;
      reserved += bytes;
      return true;
    },
    release(bytes) {
      reserved -= bytes;
    },
  };
}
