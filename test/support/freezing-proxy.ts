// A TCP proxy to the test control plane's API server whose connections can be frozen or cut: a network
// that stalls (bytes stop flowing, sockets stay open) or breaks, which the real API server alone never shows.
import type { AddressInfo } from "node:net";
import { connect, createServer, type Socket } from "node:net";
import type * as k8s from "@kubernetes/client-node";
import { kubeConfig } from "./cluster.ts";

export interface FreezingProxy {
  /** A kubeconfig for the test control plane whose server is this proxy. */
  kubeConfig(): k8s.KubeConfig;
  /** Every connection, and every one opened later (until thawNewConnections), drops what it receives. */
  freeze(): void;
  /** Connections opened from now on pass bytes again; those frozen stay frozen. */
  thawNewConnections(): void;
  /** Closes every open connection, as an API server restart or a load balancer would. */
  cut(): void;
  /** While true, every new connection is closed as soon as it opens: an API server that is down. */
  refuse(refusing: boolean): void;
  close(): Promise<void>;
}

export async function freezingProxy(): Promise<FreezingProxy> {
  const target = new URL(kubeConfig().getCurrentCluster()?.server as string);
  const sockets: Socket[] = [];
  const frozen = new Set<Socket>();
  let freezeNew = false;
  let refusing = false;
  const server = createServer((client) => {
    if (refusing) return client.destroy();
    const upstream = connect(Number(target.port), target.hostname);
    sockets.push(client, upstream);
    if (freezeNew) for (const s of [client, upstream]) frozen.add(s);
    const pipe = (from: Socket, to: Socket) =>
      from.on("data", (chunk) => {
        if (!frozen.has(from)) to.write(chunk);
      });
    pipe(client, upstream);
    pipe(upstream, client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    kubeConfig() {
      const kc = kubeConfig();
      const current = kc.getCurrentCluster()?.name;
      kc.clusters = kc.clusters.map((c) => (c.name === current ? { ...c, server: url } : c));
      return kc;
    },
    freeze() {
      for (const s of sockets) frozen.add(s);
      freezeNew = true;
    },
    thawNewConnections() {
      freezeNew = false;
    },
    cut() {
      for (const s of sockets.splice(0)) s.destroy();
    },
    refuse(on) {
      refusing = on;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
