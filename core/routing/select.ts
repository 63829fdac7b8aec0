// Send connector selection: which connector carries a message to a recipient domain, and why each other one did not.
import { MB } from "../records/common.ts";
import type { AddressSpace, SendConnector } from "../records/send-connector.ts";
import { sendConnectorMaxSize } from "../records/send-connector.ts";
import { domainSpecificity, normalizeDomain } from "./address-space.ts";
import { bestSenderMatch } from "./sender-space.ts";

export { nextHopFor } from "./next-hop.ts";

/*
 * The rule, Exchange's order ("Selecting the Routing Path to an External Recipient", Exchange 2007
 * docs, unchanged since) with one extension:
 *
 *  1. Eligible connectors only: enabled; in scope (sourceListeners empty, or naming the receive
 *     connector the message came in on — our stand-in for Exchange's scoped/source-server rules);
 *     maximum message size not below the message ("the selected connector must meet the message size
 *     constraints"; 35 MB for Internet/Partner/Custom, none for Internal, as Exchange sets); sender allowed
 *     by senderAddressSpaces when that list is non-empty; an address space matching the domain.
 *  2. The most specific address space match: "contoso.com" > "*.contoso.com" > "*.com" > "*"
 *     (more labels first; an exact domain beats the wildcard of the same domain).
 *  3. Extension — sender-based routing: at equal recipient specificity a connector whose
 *     senderAddressSpaces matched the sender beats one without sender rules, and a closer sender
 *     match wins (address > domain > *.domain > *). Admins ask how "certain mailboxes use send
 *     connector 1 and others use send connector 2"; Exchange needs transport rules for that, here it
 *     is a connector field.
 *  4. The lowest cost of the matching address space.
 *  5. The connector name, case-insensitive ascending ("alphanumerically", as Exchange does after
 *     cost and proximity; proximity has no meaning for a single relay).
 *
 * Failover: a connector whose every smart host has an open circuit (core/next-hop/circuit.ts) is
 * ineligible while that lasts, so the next by the same ranking (the cost-2 connector Exchange
 * admins add for this) takes the mail. When no connector is left that way, the ranking is made
 * again without circuits: mail then waits for the best connector's hosts rather than failing.
 */

export interface RouteQuery {
  recipientDomain: string;
  /** "" for the null sender. */
  sender: string;
  size: number;
  /** Receive connector name the message came in on; absent for messages the relay made itself. */
  sourceConnector?: string;
}

export type RouteResult =
  | { ok: true; connector: SendConnector; addressSpace: AddressSpace }
  | { ok: false; reason: string };

export interface Candidate {
  connector: string;
  verdict: "selected" | "lost" | "ineligible";
  reason: string;
  addressSpace?: AddressSpace;
}

/** A connector judged against one query. */
interface Judged {
  connector: SendConnector;
  /** Most specific matching address space, whether or not the connector is otherwise eligible. */
  match?: { space: AddressSpace; rank: number };
  /** Sender rule that matched; undefined when the connector has no sender rules. */
  sender?: { pattern: string; rank: number };
  ineligible?: string;
}

function formatSize(bytes: number): string {
  if (bytes % MB === 0) return `${bytes / MB} MB`;
  if (bytes >= MB) return `${(bytes / MB).toFixed(2)} MB (${bytes} bytes)`;
  return `${bytes} bytes`;
}

const quoteList = (names: readonly string[]) => names.map((n) => JSON.stringify(n)).join(", ");

function bestAddressSpace(c: SendConnector, domain: string): Judged["match"] {
  let best: Judged["match"];
  for (const space of c.addressSpaces) {
    const rank = domainSpecificity(space.domain, domain);
    if (rank === undefined) continue;
    if (!best || rank > best.rank || (rank === best.rank && space.cost < best.space.cost))
      best = { space, rank };
  }
  return best;
}

/** Connector name → why it cannot take mail now (every smart host's circuit is open). */
export type Unavailable = ReadonlyMap<string, string>;

function judge(c: SendConnector, q: RouteQuery, domain: string, unavailable?: Unavailable): Judged {
  const match = bestAddressSpace(c, domain);
  const sender = c.senderAddressSpaces.length
    ? bestSenderMatch(c.senderAddressSpaces, q.sender)
    : undefined;
  const out: Judged = { connector: c };
  if (match) out.match = match;
  if (sender) out.sender = sender;
  const limit = sendConnectorMaxSize(c);
  const source = q.sourceConnector?.toLowerCase();
  if (!c.enabled) out.ineligible = "disabled";
  else if (
    c.sourceListeners.length > 0 &&
    !c.sourceListeners.some((l) => l.toLowerCase() === source)
  )
    out.ineligible = `scoped to receive connectors ${quoteList(c.sourceListeners)} (message ${
      q.sourceConnector === undefined
        ? "was made by the relay"
        : `came in on ${JSON.stringify(q.sourceConnector)}`
    })`;
  else if (limit !== undefined && q.size > limit)
    out.ineligible = `message of ${formatSize(q.size)} exceeds maxMessageSize ${formatSize(limit)}`;
  else if (c.senderAddressSpaces.length > 0 && !sender)
    out.ineligible = `sender ${q.sender === "" ? "<> (null sender)" : JSON.stringify(q.sender)} not in senderAddressSpaces ${quoteList(c.senderAddressSpaces)}`;
  else if (!match) out.ineligible = `no address space matches ${JSON.stringify(domain)}`;
  else if (unavailable?.has(c.name)) out.ineligible = unavailable.get(c.name);
  return out;
}

/**
 * The ranking steps 2-5 as data: each compares two eligible connectors (negative when `a` ranks
 * first) and says why the loser lost against the winner.
 */
const RANKING: {
  compare: (a: Judged, b: Judged) => number;
  lost: (loser: Judged, winner: Judged) => string;
}[] = [
  {
    compare: (a, b) => (b.match?.rank ?? -1) - (a.match?.rank ?? -1),
    lost: (l, w) =>
      `less specific address space ${JSON.stringify(l.match?.space.domain)} than ${JSON.stringify(w.match?.space.domain)}`,
  },
  {
    compare: (a, b) => (b.sender?.rank ?? -1) - (a.sender?.rank ?? -1),
    lost: (l, w) =>
      l.sender
        ? `less specific sender match ${JSON.stringify(l.sender.pattern)} than ${JSON.stringify(w.sender?.pattern)}`
        : `no senderAddressSpaces, and ${JSON.stringify(w.connector.name)} matches the sender by ${JSON.stringify(w.sender?.pattern)}`,
  },
  {
    compare: (a, b) => (a.match?.space.cost ?? 0) - (b.match?.space.cost ?? 0),
    lost: (l, w) => `higher cost ${l.match?.space.cost} than ${w.match?.space.cost}`,
  },
  {
    compare: (a, b) => {
      const x = a.connector.name.toLowerCase();
      const y = b.connector.name.toLowerCase();
      if (x !== y) return x < y ? -1 : 1;
      return a.connector.name < b.connector.name ? -1 : a.connector.name > b.connector.name ? 1 : 0;
    },
    lost: (_l, w) => `name sorts after ${JSON.stringify(w.connector.name)}`,
  },
];

function compareJudged(a: Judged, b: Judged): number {
  for (const step of RANKING) {
    const d = step.compare(a, b);
    if (d !== 0) return d;
  }
  return 0;
}

function whyLost(loser: Judged, winner: Judged): string {
  for (const step of RANKING) if (step.compare(loser, winner) > 0) return step.lost(loser, winner);
  return `ranks equal to ${JSON.stringify(winner.connector.name)}`;
}

function whySelected(w: Judged): string {
  const space = w.match!.space;
  const parts = [`address space ${JSON.stringify(space.domain)} cost ${space.cost}`];
  if (w.sender) parts.push(`sender matches ${JSON.stringify(w.sender.pattern)}`);
  return parts.join(", ");
}

function failureReason(judged: Judged[], domain: string): string {
  if (judged.length === 0) return "no send connector is configured";
  const matching = judged.filter((j) => j.match && j.connector.enabled);
  if (matching.length === 0)
    return `no enabled send connector has an address space matching ${JSON.stringify(domain)}`;
  const why = matching.map((j) => `${JSON.stringify(j.connector.name)}: ${j.ineligible}`);
  return `no send connector can take this message for ${JSON.stringify(domain)} (${why.join("; ")})`;
}

/** Selects the send connector for one recipient domain, and explains the verdict on every connector. */
export function explainRoute(
  connectors: SendConnector[],
  q: RouteQuery,
  unavailable?: Unavailable,
): { result: RouteResult; candidates: Candidate[] } {
  const domain = normalizeDomain(q.recipientDomain);
  let judged = connectors.map((c) => judge(c, q, domain, unavailable));
  // Every candidate's hosts are down: choose as if none were, so mail waits instead of bouncing.
  if (unavailable?.size && judged.every((j) => j.ineligible))
    judged = connectors.map((c) => judge(c, q, domain));
  const ranked = judged.filter((j) => !j.ineligible).sort(compareJudged);
  const winner = ranked[0];
  const candidates = judged.map((j): Candidate => {
    const verdict = j.ineligible ? "ineligible" : j === winner ? "selected" : "lost";
    // Only eligible connectors reach whyLost, so a winner exists there.
    let reason = j.ineligible ?? (j === winner ? whySelected(j) : whyLost(j, winner!));
    const down = unavailable?.get(j.connector.name);
    if (down && !j.ineligible)
      reason += ` (${down}; no other connector can take it, so mail waits)`;
    const c: Candidate = { connector: j.connector.name, verdict, reason };
    if (j.match) c.addressSpace = j.match.space;
    return c;
  });
  const result: RouteResult = winner
    ? { ok: true, connector: winner.connector, addressSpace: winner.match!.space }
    : { ok: false, reason: failureReason(judged, domain) };
  return { result, candidates };
}

/** The send connector for one recipient domain, chosen by the rule in this module's header. */
export function selectSendConnector(connectors: SendConnector[], q: RouteQuery): RouteResult {
  return explainRoute(connectors, q).result;
}
