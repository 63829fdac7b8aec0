// HTTP health endpoint for the load balancer's target group and the ECS container health check.
import { createServer } from "node:http";

export interface HealthStatus {
  /** 200 when true, 503 otherwise: a draining listener must leave the target group first. */
  healthy: boolean;
  details: Record<string, unknown>;
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Answers GET (or HEAD) on any path with the status as JSON. */
export function startHealthServer(options: {
  host: string;
  port: number;
  status: () => HealthStatus;
}): Promise<HealthServer> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    const s = options.status();
    const body = JSON.stringify({ status: s.healthy ? "ok" : "unavailable", ...s.details });
    res.writeHead(s.healthy ? 200 : 503, {
      "content-type": "application/json",
      "cache-control": "no-store",
    });
    res.end(req.method === "HEAD" ? undefined : body);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.removeListener("error", reject);
      const address = server.address();
      resolve({
        port: address && typeof address === "object" ? address.port : 0,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
