// Listener settings: the container's environment (as the CDK stack sets it) and validation of the settings.
import { describe, expect, test } from "vitest";
import { parseListenerConfig } from "#listener/config.ts";
import { listenerConfigFromEnv } from "#listener/main.ts";

describe("listenerConfigFromEnv", () => {
  test("reads the variables the stack sets", () => {
    const config = listenerConfigFromEnv({
      RELAY_HOST_NAME: "smtp.contoso.com",
      RELAY_BIND_PORTS: '{"25":2525,"587":2587,"465":2465}',
      RELAY_HEALTH_PORT: "8025",
      RELAY_CLAIM_CHECK_THRESHOLD_BYTES: "196608",
      RELAY_TRUSTED_PROXIES: "10.0.0.0/16, 10.1.0.5",
      RELAY_SHUTDOWN_DEADLINE_MS: "20000",
      RELAY_TLS_RELOAD_SECONDS: "60",
    });
    expect(parseListenerConfig(config)).toMatchObject({
      hostName: "smtp.contoso.com",
      tlsReloadIntervalMs: 60_000,
      bindPorts: { "25": 2525, "587": 2587, "465": 2465 },
      healthPort: 8025,
      inlineBodyLimit: 196_608,
      trustedProxies: ["10.0.0.0/16", "10.1.0.5"],
      shutdownDeadlineMs: 20_000,
    });
  });

  test("defaults: no proxies trusted, 192 KiB inline, no health endpoint, a 5 s reload, TLS re-read every 5 minutes", () => {
    const config = parseListenerConfig(
      listenerConfigFromEnv({ RELAY_HOST_NAME: "smtp.contoso.com" }),
    );
    expect(config).toMatchObject({
      trustedProxies: [],
      inlineBodyLimit: 192 * 1024,
      reloadIntervalMs: 5_000,
      tlsReloadIntervalMs: 300_000,
      bindPorts: {},
    });
    expect(config.healthPort).toBeUndefined();
    expect(config.tls).toBeUndefined();
  });

  test("the host name is required", () => {
    expect(() => listenerConfigFromEnv({})).toThrow("RELAY_HOST_NAME is not set");
  });
});

test("a trusted proxy that is not an address or range is refused", () => {
  expect(() => parseListenerConfig({ hostName: "h", trustedProxies: ["nlb.internal"] })).toThrow(
    /not an IP address or range/,
  );
});
