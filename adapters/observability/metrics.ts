// The metrics port on Powertools Metrics: counts summed per dimension values and written as CloudWatch EMF lines.
import { MetricUnit, Metrics as PowertoolsMetrics } from "@aws-lambda-powertools/metrics";
import { type Log, SILENT_LOG } from "#core/log.ts";
import { DEFAULT_METRICS_NAMESPACE, type Metrics } from "#core/metrics.ts";
import type { LineSink } from "./logger.ts";

/**
 * How often long-running processes (the listener's tasks, local mode) write their counts: each
 * line then lands in a 1-minute CloudWatch period, and a task's last counts are written at stop.
 */
export const PERIODIC_FLUSH_MS = 60_000;

/** The `service` dimension where no stack names it (local mode, tests). */
export const DEFAULT_METRICS_SERVICE = "connector-relay";

/**
 * Limits of Embedded Metric Format (and Powertools' checks of them): 30 dimensions per set, of
 * which `service` is one; 100 metrics per blob; names 1–255 characters.
 */
const MAX_DIMENSIONS = 29 - 1;
const MAX_METRICS_PER_BLOB = 100;
const MAX_NAME_LENGTH = 255;

export interface EmfMetricsOptions {
  /** CloudWatch namespace. @default "ConnectorRelay" */
  namespace?: string;
  /** The `service` dimension of every metric: the stack name in AWS, so deployments stay apart. */
  service?: string;
  /** Where EMF lines go. @default stdout (Lambda and Fargate send it to CloudWatch Logs) */
  out?: LineSink;
  /** Also flush every this many ms (long-running processes; Lambda flushes per invocation). */
  flushEveryMs?: number;
  /** Where a count that cannot be written is reported; metrics never touch mail flow. */
  log?: Log;
}

interface Group {
  dimensions: [string, string][];
  counts: Map<string, number>;
}

/**
 * Counts in memory and writes them as Embedded Metric Format on `flush`: CloudWatch Logs turns the
 * lines into metrics, so no CloudWatch API call is made on the mail path. One blob carries one set
 * of dimension values, so counts are grouped by their dimensions' values, one line per group.
 *
 * Each count is also published at every coarser level of its dimensions, in the order given
 * (`{ SendConnector, NextHop }` → [service], [service, SendConnector], [service, SendConnector,
 * NextHop]): the dashboard and alarms read the service total and an operator drills down per
 * connector, without SEARCH expressions (which alarms cannot use). Every dimension set is a
 * separately billed custom metric, so dimension values must stay few (connector names, smart
 * hosts; never recipient domains or addresses).
 */
export class EmfMetrics implements Metrics {
  readonly #groups = new Map<string, Group>();
  readonly #out: LineSink;
  readonly #log: Log;
  readonly #powertools: PowertoolsMetrics;
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(options: EmfMetricsOptions = {}) {
    this.#out = options.out ?? process.stdout;
    this.#log = options.log ?? SILENT_LOG;
    const warn = (message: string) => {
      // Every coarser dimension set repeats a key of the finer ones (by design, see above).
      if (!/defined as both a dimension set and dimension set/.test(message))
        this.#log.warn("metrics", { problem: message });
    };
    this.#powertools = new PowertoolsMetrics({
      namespace: options.namespace || DEFAULT_METRICS_NAMESPACE,
      serviceName: options.service || DEFAULT_METRICS_SERVICE,
      logger: { debug() {}, info() {}, warn, error: warn },
    });
    if (options.flushEveryMs) {
      this.#timer = setInterval(() => this.flush(), options.flushEveryMs);
      this.#timer.unref();
    }
  }

  count(name: string, dimensions: Record<string, string> = {}, value = 1): void {
    if (!name || name.length > MAX_NAME_LENGTH || !Number.isFinite(value)) {
      this.#log.warn("metric not counted", {
        metric: name,
        value,
        problem: "invalid name or value",
      });
      return;
    }
    // Empty values would be dropped by CloudWatch; `service` is the adapter's own dimension.
    const entries = Object.entries(dimensions).filter(([k, v]) => k && v && k !== "service");
    if (entries.length > MAX_DIMENSIONS) {
      this.#log.warn("metric not counted", {
        metric: name,
        problem: `more than ${MAX_DIMENSIONS} dimensions`,
      });
      return;
    }
    const key = JSON.stringify(entries);
    let group = this.#groups.get(key);
    if (!group) {
      group = { dimensions: entries, counts: new Map() };
      this.#groups.set(key, group);
    }
    group.counts.set(name, (group.counts.get(name) ?? 0) + value);
  }

  /** The EMF documents for what was counted since the last flush (one per dimension values). */
  drain(now = Date.now()): object[] {
    const docs: object[] = [];
    const groups = [...this.#groups.values()];
    this.#groups.clear();
    const pt = this.#powertools;
    for (const group of groups) {
      const names = [...group.counts];
      for (let i = 0; i < names.length; i += MAX_METRICS_PER_BLOB) {
        try {
          for (let n = 0; n <= group.dimensions.length; n++)
            pt.addDimensions(Object.fromEntries(group.dimensions.slice(0, n)));
          for (const [name, value] of names.slice(i, i + MAX_METRICS_PER_BLOB))
            pt.addMetric(name, MetricUnit.Count, value);
          pt.setTimestamp(now);
          docs.push(pt.serializeMetrics());
        } catch (error) {
          this.#log.warn("metrics not written", { error });
        } finally {
          pt.clearMetrics();
          pt.clearDimensions();
        }
      }
    }
    return docs;
  }

  /** Writes one EMF line per dimension values counted since the last flush; never throws. */
  flush(now = Date.now()): void {
    for (const doc of this.drain(now)) {
      try {
        this.#out.write(`${JSON.stringify(doc)}\n`);
      } catch (error) {
        this.#log.warn("metrics not written", { error });
      }
    }
  }

  /** Stops the periodic flush and writes what is left (at shutdown). */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.flush();
  }
}
