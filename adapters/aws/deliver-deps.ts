// The deliver function's dependencies in AWS: route's, plus DNS, the SMTP courier (port-25 guarded), Secrets Manager, the suppression list and EventBridge.
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { NodeDnsResolver } from "#adapters/dns/resolver.ts";
import { NodemailerCourier } from "#adapters/smtp/courier.ts";
import { NetworkTlsPolicyLookups } from "#adapters/tls-policy/lookups.ts";
import { NextHopGovernor } from "#core/next-hop/governor.ts";
import type { DeliverDeps, UseCaseLog } from "#core/usecases/deps.ts";
import { DynamoHopStateStore } from "./dynamodb-hop-state.ts";
import { DynamoMtaStsPolicyStore } from "./dynamodb-mta-sts.ts";
import { DynamoSuppressionStore } from "./dynamodb-suppression.ts";
import { RELAY_ENV } from "./env.ts";
import { EventBridgePublisher } from "./eventbridge-events.ts";
import { type AwsClients, defaultClients } from "./from-env.ts";
import { type FunctionWiring, relayDepsFromEnv, type WiringOptions } from "./function-deps.ts";
import { Port25GuardCourier } from "./port25.ts";

type Env = Record<string, string | undefined>;

/**
 * Deliver adds DNS, the SMTP courier (guarded when port 25 is not open), secrets, and MX TLS
 * policy: MTA-STS policies cached in the tracking table (shared by every invocation) and TLSA
 * lookups to the connector's DNS servers or, by default, the VPC resolver from /etc/resolv.conf
 * (Route 53 Resolver; turn on its DNSSEC validation before setting dnssecValidatingResolver).
 */
export function deliverDepsFromEnv(
  log: UseCaseLog,
  env: Env = process.env,
  clients: AwsClients = defaultClients(),
  options: WiringOptions & {
    /** Test-only: trust anchors and port of MTA-STS policy hosts (a test CA on a loopback port). */
    mtaStsFetch?: { ca?: string[]; port?: number };
  } = {},
): FunctionWiring<DeliverDeps> {
  const { deps, metrics, adapters } = relayDepsFromEnv(log, env, clients, options);
  const port25Enabled = env[RELAY_ENV.mxDeliveryEnabled] !== "false";
  // Next-hop limits shared by every invocation, in the Limits table (dynamodb-hop-state.ts).
  const limitsTable = env[RELAY_ENV.limitsTable];
  const nextHops = limitsTable
    ? new NextHopGovernor(
        new DynamoHopStateStore({ client: clients.dynamo, tableName: limitsTable }),
        { now: () => new Date() },
      )
    : undefined;
  const eventBusName = env[RELAY_ENV.eventBus];
  return {
    metrics,
    deps: {
      ...deps,
      dns: new NodeDnsResolver(),
      courier: new Port25GuardCourier(new NodemailerCourier(), { port25Enabled }),
      secrets: adapters.secretStore,
      ...(nextHops ? { nextHops } : {}),
      suppression: new DynamoSuppressionStore({
        client: clients.dynamo,
        tableName: adapters.trackingStore.tableName,
      }),
      ...(eventBusName
        ? {
            events: new EventBridgePublisher({
              client: clients.eventBridge ?? new EventBridgeClient({}),
              eventBusName,
            }),
          }
        : {}),
      tlsPolicy: {
        lookups: new NetworkTlsPolicyLookups(
          options.mtaStsFetch ? { fetch: options.mtaStsFetch } : {},
        ),
        mtaStsStore: new DynamoMtaStsPolicyStore({
          client: clients.dynamo,
          tableName: adapters.trackingStore.tableName,
        }),
      },
    },
  };
}
