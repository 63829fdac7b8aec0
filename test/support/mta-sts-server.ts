// A loopback HTTPS server for MTA-STS policy files (certificate from the test CA), scripted per request.
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";

export interface PolicyReply {
  status?: number;
  contentType?: string;
  body?: string;
  headers?: Record<string, string>;
}

export interface TestPolicyServer {
  readonly port: number;
  /** Reply per Host header (the policy host, e.g. "mta-sts.fabrikam.test"). */
  readonly replies: Map<string, PolicyReply>;
  /** Requests received, as "host path". */
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startPolicyServer(tls: {
  cert: string;
  key: string;
}): Promise<TestPolicyServer> {
  const replies = new Map<string, PolicyReply>();
  const requests: string[] = [];
  const server: Server = createServer(tls, (req, res) => {
    const host = String(req.headers.host ?? "").replace(/:\d+$/, "");
    requests.push(`${host} ${req.url}`);
    const r = replies.get(host) ?? { status: 404, body: "not found" };
    res.writeHead(r.status ?? 200, {
      "content-type": r.contentType ?? "text/plain",
      ...(r.headers ?? {}),
    });
    res.end(r.body ?? "");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    replies,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A policy file as RFC 8461 §3.2 writes it (CRLF lines). */
export const policyText = (mode: string, mx: string[], maxAge = 86_400): string =>
  ["version: STSv1", `mode: ${mode}`, ...mx.map((m) => `mx: ${m}`), `max_age: ${maxAge}`, ""].join(
    "\r\n",
  );
