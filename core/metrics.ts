// The metrics port: counts an operator graphs and alarms on, with the dimensions they filter by.

/** The CloudWatch namespace of every count, unless a deployment names its own (the stack and the adapter agree on it). */
export const DEFAULT_METRICS_NAMESPACE = "ConnectorRelay";

/**
 * Counts named events. `dimensions` are the operator's filters (e.g. `{ connector, nextHop }` for a
 * delivery count); the service/stack dimension is added by the adapter. Never throws: a metrics
 * failure must not touch mail flow.
 */
export interface Metrics {
  count(name: string, dimensions?: Record<string, string>, value?: number): void;
}

export const NO_METRICS: Metrics = { count() {} };
