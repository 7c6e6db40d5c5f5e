// Two bounds that keep a client which opens many connections, or sends many large bodies, from
// starving the API server's reviews. Connections: past the cap, the oldest connection that never
// carried a whole request (idle from the start, or headers still coming) is closed to make room, then
// the oldest idle keep-alive one, so holding sockets cannot lock the API server out, and the API
// server's own keep-alive connections (which have served reviews) go last; only when every one is
// busy is the new one refused. A connection that has sent nothing yet is held like an idle keep-alive
// one, not cut at the request timeout: the API server keeps spares. Bodies: the bytes of the requests
// being read or handled are bounded (the server charges them: small bodies as announced, large ones as
// they arrive); past it, a request is answered 503.
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
  handToHttpOnFirstBytes(server);
  // Insertion order is age: the first socket without a request in progress is the one to close.
  const sockets = new Map<Socket, SocketState>();
  server.on("secureConnection", (socket: Socket) => {
    if (sockets.size >= maxConnections && !evictIdle(sockets)) {
      socket.destroy();
      return;
    }
    sockets.set(socket, { busy: 0, served: 0 });
    socket.once("close", () => sockets.delete(socket));
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
function handToHttpOnFirstBytes(server: Server): void {
  const http = server.listeners("secureConnection")[0] as ((socket: TLSSocket) => void) | undefined;
  if (http?.name !== "connectionListener") throw new Error("the HTTPS server's connection listener was not found");
  server.removeListener("secureConnection", http);
  server.on("secureConnection", (socket: TLSSocket) => {
    socket.setTimeout(server.keepAliveTimeout, () => socket.destroy());
    socket.once("readable", () => {
      socket.setTimeout(0);
      http.call(server, socket);
    });
  });
}

interface SocketState {
  /** Requests in progress (after their headers). */
  busy: number;
  /** Requests answered. */
  served: number;
}

function evictIdle(sockets: Map<Socket, SocketState>): boolean {
  const victim =
    [...sockets].find(([, state]) => state.busy === 0 && state.served === 0) ??
    [...sockets].find(([, state]) => state.busy === 0);
  if (!victim) return false;
  sockets.delete(victim[0]);
  victim[0].destroy();
  return true;
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
