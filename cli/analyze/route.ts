// The route a message took, hop by hop from its Received fields (oldest first), with delays, clock skew and this relay's own hop.
import { fieldsNamed, type HeaderSection } from "./headers.ts";
import { type ProtocolMeaning, parseMailDate, parseReceived, protocolMeaning } from "./received.ts";

export interface Hop {
  /** 1 is the first server the message reached. */
  hop: number;
  from?: string;
  fromIp?: string;
  by?: string;
  with?: string;
  protocol: ProtocolMeaning;
  id?: string;
  for?: string;
  /** ISO 8601, when the field carries a readable date. */
  time?: string;
  /** Seconds since the previous hop (the Date field for the first one); negative is clock skew. */
  delaySeconds?: number;
  /** This relay's own hop, with the receive connector its Received field names. */
  relay?: { receiveConnector?: string };
  problems: string[];
  received: string;
}

export interface Route {
  subject?: string;
  messageId?: string;
  /** The Date field: when the sender's client says it wrote the message. */
  date?: string;
  hops: Hop[];
  /** Seconds from the Date field (or the first dated hop) to the last dated hop. */
  totalSeconds?: number;
  notes: string[];
}

/** How this relay marks its own Received field: "(connector-relay; connector="Name")" after by. */
const RELAY_MARK = /connector-relay(?:;\s*connector="([^"]*)")?/;

/** At most this many hops are listed: a loop stops at maxHopCount (60) long before. */
export const MAX_HOPS = 100;

export function analyzeRoute(section: HeaderSection): Route {
  const notes: string[] = [];
  if (section.truncated)
    notes.push("the header section is over 1 MB; only its first megabyte was read");
  if (section.malformedLines > 0)
    notes.push(
      `${section.malformedLines} line(s) of the header section are not "Name: value" fields; skipped`,
    );
  const first = (name: string) => fieldsNamed(section, name)[0]?.slice(0, 998);
  const route: Route = { hops: [], notes };
  const subject = first("Subject");
  if (subject !== undefined) route.subject = subject;
  const messageId = first("Message-ID");
  if (messageId !== undefined) route.messageId = messageId;
  const date = parseMailDate(first("Date") ?? "");
  if (date) route.date = date.toISOString();
  else if (first("Date") !== undefined)
    notes.push(`the Date field is not a date: ${JSON.stringify(first("Date"))}`);

  let received = fieldsNamed(section, "Received");
  if (received.length === 0) {
    notes.push(
      "no Received fields: the message was saved before any server handled it, or they were removed",
    );
    return route;
  }
  if (received.length > MAX_HOPS) {
    notes.push(
      `${received.length} Received fields; only the newest ${MAX_HOPS} are listed (a mail loop?)`,
    );
    received = received.slice(0, MAX_HOPS);
  }
  // Each server adds its field on top (RFC 5321 §4.4): the bottom one is the first hop.
  let previous = date;
  let previousLabel = "Date field";
  let firstTime: Date | undefined;
  let lastTime: Date | undefined;
  route.hops = received.reverse().map((value, i) => {
    const c = parseReceived(value);
    const hop: Hop = {
      hop: i + 1,
      protocol: protocolMeaning(c.with, c.withInfo),
      problems: [],
      received: value.slice(0, 2000),
    };
    for (const k of ["from", "fromIp", "by", "with", "id", "for"] as const)
      if (c[k] !== undefined) hop[k] = c[k];
    const mark = RELAY_MARK.exec(c.byInfo ?? "");
    if (mark) hop.relay = mark[1] !== undefined ? { receiveConnector: mark[1] } : {};
    if (!c.by) hop.problems.push("no by clause: which server added this field is unknown");
    if (!c.date) {
      hop.problems.push(
        c.dateText ? `unreadable date ${JSON.stringify(c.dateText.slice(0, 80))}` : "no date",
      );
      return hop;
    }
    hop.time = c.date.toISOString();
    firstTime ??= c.date;
    lastTime = c.date;
    if (previous) {
      hop.delaySeconds = Math.round((c.date.getTime() - previous.getTime()) / 1000);
      if (hop.delaySeconds < 0)
        hop.problems.push(
          `clock skew: ${-hop.delaySeconds} s earlier than the ${previousLabel}; the servers' clocks differ, or the fields are out of order`,
        );
    }
    previous = c.date;
    previousLabel = "previous hop";
    return hop;
  });
  const start = date ?? firstTime;
  if (start && lastTime)
    route.totalSeconds = Math.round((lastTime.getTime() - start.getTime()) / 1000);
  if (!route.hops.some((h) => h.relay))
    notes.push(
      "no hop names connector-relay: the message did not pass this relay, or it passed before Received fields named it",
    );
  return route;
}
