// /healthz, /readyz and /metrics on a plain-HTTP port, for the kubelet's probes and Prometheus: the
// webhook's own port speaks TLS 1.3 only. Answers come from the webhook server's own routes, so
// both ports always say the same thing.
import { createServer, type Server } from "node:http";
import type { FastifyInstance } from "fastify";

const PATHS = new Set(["/healthz", "/readyz", "/metrics"]);
const NOT_FOUND = JSON.stringify({
  error: "Not Found",
  reason: "this port answers GET /healthz, /readyz and /metrics; the webhook is on its HTTPS port",
});

export async function startProbeServer(app: FastifyInstance, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    if (request.method !== "GET" || !PATHS.has(path)) {
      response.writeHead(404, { "content-type": "application/json" }).end(NOT_FOUND);
      return;
    }
    app.inject({ method: "GET", url: path }).then(
      (answer) =>
        response
          .writeHead(answer.statusCode, { "content-type": String(answer.headers["content-type"] ?? "text/plain") })
          .end(answer.rawPayload),
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "0.0.0.0", () => resolve());
  });
  return server;
}
