// The metrics adapter: counts summed per dimension values, written as CloudWatch EMF by Powertools, with service-level roll-ups.
import { afterEach, describe, expect, test, vi } from "vitest";
import { EmfMetrics } from "#adapters/observability/metrics.ts";

interface Emf {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: Array<{
      Namespace: string;
      Dimensions: string[][];
      Metrics: Array<{ Name: string; Unit: string }>;
    }>;
  };
  [key: string]: unknown;
}

function captured() {
  const lines: string[] = [];
  const warnings: Array<{ message: string; fields?: Record<string, unknown> }> = [];
  const log = {
    info() {},
    warn: (message: string, fields?: Record<string, unknown>) => warnings.push({ message, fields }),
    error() {},
  };
  const docs = () => lines.map((l) => JSON.parse(l) as Emf);
  return { out: { write: (l: string) => lines.push(l) }, log, lines, warnings, docs };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("EmfMetrics", () => {
  test("one EMF line per dimension values, counts summed, each rolled up to the service and connector", () => {
    const c = captured();
    const m = new EmfMetrics({ namespace: "Relay", service: "Prod", out: c.out, log: c.log });
    const partner = { SendConnector: "Partner", NextHop: "smtp.fabrikam.com:587" };
    m.count("Delivered", partner);
    m.count("Delivered", partner);
    m.count("Deferred", partner);
    m.count("Deferred", { SendConnector: "Internet" }, 3);
    m.count("Failed");
    m.flush(Date.parse("2026-11-24T10:00:00Z"));

    expect(c.lines.every((l) => l.endsWith("\n") && !l.slice(0, -1).includes("\n"))).toBe(true);
    expect(c.docs()).toEqual([
      {
        _aws: {
          Timestamp: Date.parse("2026-11-24T10:00:00Z"),
          CloudWatchMetrics: [
            {
              Namespace: "Relay",
              Dimensions: [
                ["service"],
                ["service", "SendConnector"],
                ["service", "SendConnector", "NextHop"],
              ],
              Metrics: [
                { Name: "Delivered", Unit: "Count" },
                { Name: "Deferred", Unit: "Count" },
              ],
            },
          ],
        },
        service: "Prod",
        SendConnector: "Partner",
        NextHop: "smtp.fabrikam.com:587",
        Delivered: 2,
        Deferred: 1,
      },
      expect.objectContaining({
        _aws: expect.objectContaining({
          CloudWatchMetrics: [
            expect.objectContaining({ Dimensions: [["service"], ["service", "SendConnector"]] }),
          ],
        }),
        SendConnector: "Internet",
        Deferred: 3,
      }),
      expect.objectContaining({
        _aws: expect.objectContaining({
          CloudWatchMetrics: [expect.objectContaining({ Dimensions: [["service"]] })],
        }),
        service: "Prod",
        Failed: 1,
      }),
    ]);
    // The roll-up's repeated keys are by design, not a problem to report.
    expect(c.warnings).toEqual([]);
  });

  test("a flush starts again from zero; nothing counted writes nothing", () => {
    const c = captured();
    const m = new EmfMetrics({ out: c.out, log: c.log });
    m.flush();
    expect(c.lines).toEqual([]);
    m.count("Received", { ReceiveConnector: "Default" });
    m.flush();
    m.flush();
    m.count("Received", { ReceiveConnector: "Default" });
    m.flush();
    expect(c.docs().map((d) => d.Received)).toEqual([1, 1]);
    expect(c.docs()[0]?._aws.CloudWatchMetrics[0]?.Namespace).toBe("ConnectorRelay");
    expect(c.docs()[0]?.service).toBe("connector-relay");
  });

  test("bad counts are reported and skipped, never thrown; the rest is written", () => {
    const c = captured();
    const m = new EmfMetrics({ out: c.out, log: c.log });
    const many = Object.fromEntries(Array.from({ length: 29 }, (_, i) => [`D${i}`, "x"]));
    m.count("", {});
    m.count("x".repeat(256));
    m.count("Delivered", {}, Number.NaN);
    m.count("TooFine", many);
    // Empty values would be dropped by CloudWatch; `service` stays the adapter's.
    m.count("Delivered", { SendConnector: "", service: "spoofed", NextHop: "a:25" });
    m.flush();
    expect(c.warnings.map((w) => w.message)).toEqual([
      "metric not counted",
      "metric not counted",
      "metric not counted",
      "metric not counted",
    ]);
    expect(c.docs()).toHaveLength(1);
    expect(c.docs()[0]).toMatchObject({
      service: "connector-relay",
      NextHop: "a:25",
      Delivered: 1,
    });
  });

  test("more than 100 metric names with the same dimensions are split over blobs (EMF's limit)", () => {
    const c = captured();
    const m = new EmfMetrics({ out: c.out, log: c.log });
    for (let i = 0; i < 150; i++) m.count(`M${i}`, { SendConnector: "A" });
    m.flush();
    expect(c.docs().map((d) => d._aws.CloudWatchMetrics[0]?.Metrics.length)).toEqual([100, 50]);
  });

  test("a failing output is reported, not thrown", () => {
    const c = captured();
    const m = new EmfMetrics({
      out: {
        write() {
          throw new Error("EPIPE");
        },
      },
      log: c.log,
    });
    m.count("Delivered");
    expect(() => m.flush()).not.toThrow();
    expect(c.warnings.map((w) => w.message)).toEqual(["metrics not written"]);
  });

  test("with flushEveryMs it writes on its own, and close writes what is left", () => {
    vi.useFakeTimers();
    const c = captured();
    const m = new EmfMetrics({ out: c.out, log: c.log, flushEveryMs: 60_000 });
    m.count("Received");
    vi.advanceTimersByTime(59_999);
    expect(c.lines).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(c.docs().map((d) => d.Received)).toEqual([1]);
    m.count("Received", {}, 2);
    m.close();
    vi.advanceTimersByTime(120_000);
    expect(c.docs().map((d) => d.Received)).toEqual([1, 2]);
  });
});
