// Names of the environment variables the CDK stack sets on the listener task and the functions (no SDK imports, so infra can use them).

/** Variable names the stack sets on the listener task and both functions. */
export const RELAY_ENV = {
  submissionQueueUrl: "RELAY_SUBMISSION_QUEUE_URL",
  deliveryQueueUrl: "RELAY_DELIVERY_QUEUE_URL",
  bodyBucket: "RELAY_BODY_BUCKET",
  recordTable: "RELAY_RECORD_TABLE",
  trackingTable: "RELAY_TRACKING_TABLE",
  /** The table of shared counters: the listener's rates and AUTH failures, deliver's next-hop limits and circuits. */
  limitsTable: "RELAY_LIMITS_TABLE",
  /** Secrets are named `<prefix><name>`, e.g. "connector-relay/smarthost/relay1". */
  secretPrefix: "RELAY_SECRET_PREFIX",
  /** Name (without prefix) of the secret holding the listener's TLS certificate and key. */
  tlsSecret: "RELAY_TLS_SECRET",
  recordCacheSeconds: "RELAY_RECORD_CACHE_SECONDS",
  trackingRetentionDays: "RELAY_TRACKING_RETENTION_DAYS",
  claimCheckThresholdBytes: "RELAY_CLAIM_CHECK_THRESHOLD_BYTES",
  maxMessageSizeBytes: "RELAY_MAX_MESSAGE_SIZE_BYTES",
  hostName: "RELAY_HOST_NAME",
  /** The queues' redrive maxReceiveCount, so the last receive can record why a message is dead-lettered. */
  maxReceiveCount: "RELAY_MAX_RECEIVE_COUNT",
  /** Deliver only: the EventBridge bus delivery events go to; unset, none are published. */
  eventBus: "RELAY_EVENT_BUS",
  /** "true" when outbound port 25 is open for this deployment (AWS's port-25 request approved). */
  mxDeliveryEnabled: "RELAY_MX_DELIVERY_ENABLED",
  smartHostOnly: "RELAY_SMART_HOST_ONLY",
  metricsNamespace: "RELAY_METRICS_NAMESPACE",
  /** The `service` dimension of every metric: the stack name, so two deployments in one account stay apart. */
  metricsService: "RELAY_METRICS_SERVICE",
  /** Listener only: JSON map of connector port to bound port, e.g. {"25":2525} (a non-root user cannot bind below 1024). */
  bindPorts: "RELAY_BIND_PORTS",
  /** Listener only: port of the HTTP health endpoint the load balancer checks. */
  healthPort: "RELAY_HEALTH_PORT",
} as const;

export type RelayEnvName = keyof typeof RELAY_ENV;

/** Record edits in the console take effect within this time (the issue asks for under a minute). */
export const DEFAULT_RECORD_CACHE_SECONDS = 30;
