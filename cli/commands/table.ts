// The CLI's command table: every noun, verb and flag with its type, default and an example; --help, completion and parsing read it.
import type { ParseArgsOptionsConfig } from "node:util";
import type { TrackingEventType } from "#core/ports.ts";
import { bool, flag, fromField, type NounDoc } from "./command-doc.ts";
import { fieldFlags, RECORD_SPECS } from "./record-specs.ts";
import { ADMIN_NOUNS } from "./table-admin.ts";
import { TRANSPORT_EXAMPLES, TRANSPORT_FLAGS } from "./transport-config.ts";

export type { FlagDoc, NounDoc, VerbDoc } from "./command-doc.ts";

/** Message tracking's event ids (Get-MessageTrackingLog -EventId), for `track --event-id`. */
export const EVENT_IDS: readonly TrackingEventType[] = [
  "RECEIVE",
  "ROUTE",
  "DEFER",
  "DELIVER",
  "FAIL",
  "EXPIRE",
  "DSN",
  "DLQ",
  "SUSPEND",
  "RESUME",
  "RETRY",
  "REMOVE",
];

function recordNoun(noun: string): NounDoc {
  const spec = RECORD_SPECS[noun];
  if (!spec) throw new Error(`no record noun ${noun}`);
  const fields = fieldFlags(spec);
  const id = fields.find((f) => f.flag === spec.idFlag);
  const idDoc = (required: boolean) =>
    id ? fromField(id, required) : flag(spec.idFlag, "text", "", { required });
  const extra = (spec.extra ?? []).map((x) => flag(x.flag, x.hint, x.description));
  const rest = fields.filter((f) => f.flag !== spec.idFlag);
  return {
    summary: `${spec.kind} records (New-, Get-, Set-, Remove-${spec.kind})`,
    verbs: {
      new: {
        summary: `create a ${spec.kind}`,
        flags: [idDoc(true), ...rest.map((f) => fromField(f, f.required)), ...extra],
        example: spec.examples.new,
      },
      get: {
        summary: `list ${spec.kind} records, or show one with --${spec.idFlag}`,
        flags: [idDoc(false)],
        example: `relay ${noun} get --json`,
      },
      set: {
        summary: `change a ${spec.kind}: only the flags given`,
        flags: [idDoc(true), ...rest.map((f) => fromField(f)), ...extra],
        example: spec.examples.set,
      },
      remove: {
        summary: `remove a ${spec.kind}`,
        flags: [idDoc(true)],
        example: `relay ${noun} remove --${spec.idFlag} ${id?.field === "domain" ? "contoso.com" : '"Old"'}`,
      },
    },
  };
}

const identity = flag(
  "identity",
  "text",
  "a queue: Submission, Poison or a next hop (Get-Queue's Identity)",
);

export const COMMANDS: Record<string, NounDoc> = {
  ...Object.fromEntries(Object.keys(RECORD_SPECS).map((n) => [n, recordNoun(n)])),
  ...ADMIN_NOUNS,
  "transport-config": {
    summary: "organisation-wide settings: retries, expiry, host name (Get-/Set-TransportConfig)",
    verbs: {
      get: {
        summary: "show the settings the relay uses",
        flags: [],
        example: TRANSPORT_EXAMPLES.get,
      },
      set: {
        summary: "change the settings: only the flags given",
        flags: TRANSPORT_FLAGS.map((f) => fromField(f)),
        example: TRANSPORT_EXAMPLES.set,
      },
    },
  },
  records: {
    summary: "every record and every cross-record rule",
    verbs: {
      validate: {
        summary: "list each invalid record with its field and fix; exit 1 when there are any",
        flags: [],
        example: "relay records validate --json",
      },
    },
  },
  queue: {
    summary: "queues per next hop, Submission and Poison (Get-Queue, Retry-Queue)",
    verbs: {
      get: {
        summary: "list the queues",
        flags: [identity],
        example: "relay queue get --aws --stack ConnectorRelay-prod",
      },
      retry: {
        summary: "redrive the Poison queue; with a next hop: retry its messages now",
        flags: [identity],
        example: "relay queue retry --identity contoso.com",
      },
    },
  },
  message: {
    summary: "messages in the queues (Get-, Retry-, Suspend-, Resume-, Remove-Message)",
    verbs: {
      get: {
        summary: "list messages, or every recipient of one",
        flags: [flag("queue", "text", "only this queue")],
        positional: "[ID]",
        example: "relay message get --queue Poison",
      },
      retry: {
        summary: "deliver now",
        flags: [],
        positional: "ID",
        example: "relay message retry 20261124T162639Z-e72691dd77bb",
      },
      suspend: {
        summary: "hold it",
        flags: [],
        positional: "ID",
        example: "relay message suspend 20261124T162639Z-e72691dd77bb",
      },
      resume: {
        summary: "release it",
        flags: [],
        positional: "ID",
        example: "relay message resume 20261124T162639Z-e72691dd77bb",
      },
      remove: {
        summary: "delete it, optionally with an NDR to the sender",
        flags: [bool("with-ndr", "send the sender a non-delivery report")],
        positional: "ID",
        example: "relay message remove --with-ndr 20261124T162639Z-e72691dd77bb",
      },
      analyze: {
        summary:
          "the route of a delivered message from its Received headers, with DKIM, SPF, DMARC and ARC results",
        flags: [
          flag(
            "dns-servers",
            "list of ip[:port]",
            "DNS servers for the DKIM, SPF and DMARC lookups",
            {
              default: "the system's",
            },
          ),
          bool("skip-auth", "only the route: no DKIM, SPF, DMARC or ARC checks (no DNS lookups)"),
        ],
        positional: "[FILE]",
        example: "relay message analyze saved-message.eml --dns-servers 1.1.1.1",
      },
    },
  },
  track: {
    summary: "message tracking log (Get-MessageTrackingLog)",
    verbs: {
      "": {
        summary: "events of a message, a sender or a recipient",
        flags: [
          flag("message-id", "text", "a relay message id"),
          flag("sender", "address", "envelope sender (<> for bounces)"),
          flag("recipient", "address", "envelope recipient"),
          flag("event-id", "text", "only this event", { choices: [...EVENT_IDS] }),
        ],
        example: "relay track --recipient ann@fabrikam.com --event-id FAIL",
      },
    },
  },
  route: {
    summary: "which send connector a recipient takes, and why every other lost",
    verbs: {
      explain: {
        summary: "explain the routing of one recipient",
        flags: [
          flag("to", "address", "the recipient", { required: true }),
          flag("from", "address", "the sender (sender-based routing)"),
          flag("size", "size", "message size", { default: "0" }),
          flag("receive-connector", "text", "the connector the message came in on (scoping)"),
        ],
        example: "relay route explain --to ann@fabrikam.com --size 10MB",
      },
    },
  },
  test: {
    summary: "one SMTP transaction with its transcript",
    verbs: {
      send: {
        summary: "send a test message to a server",
        flags: [
          flag("server", "host[:port]", "the server to talk to", { required: true }),
          flag("from", "address", "envelope sender", { required: true }),
          flag("to", "list of address", "envelope recipients", { required: true }),
          flag("auth-user", "text", "AUTH as this user; password from RELAY_PASSWORD or a prompt"),
          flag("subject", "text", "Subject header"),
          flag("helo", "text", "EHLO name", { default: "this host's name" }),
          bool("require-tls", "fail unless STARTTLS succeeds"),
          bool("tls-verify", "verify the server's certificate"),
          flag("timeout", "int", "seconds", { default: "30" }),
        ],
        example:
          "relay test send --server relay.contoso.com:587 --from app@contoso.com --to ann@fabrikam.com --auth-user app --require-tls",
      },
    },
  },
  "resolve-mx": {
    summary: "MX hosts of a domain in preference order, with addresses",
    verbs: {
      "": {
        summary: "resolve a domain's MX hosts",
        flags: [
          flag("dns-servers", "list of ip[:port]", "ask these servers", {
            default: "the system's",
          }),
        ],
        positional: "DOMAIN",
        example: "relay resolve-mx fabrikam.com --dns-servers 1.1.1.1",
      },
    },
  },
  doctor: {
    summary:
      "what usually breaks mail flow: PTR, SPF, DKIM, MTA-STS, port 25, certificates, dead letters, records",
    verbs: {
      "": {
        summary: "check, one line per finding (OK, WARN, FAIL) with the fix; exit 1 on any FAIL",
        flags: [
          flag("egress-ip", "list of ip", "addresses mail leaves from", {
            default: "transport-config egressIps; with --aws the stack's EgressIp outputs",
          }),
          flag("dns-servers", "list of ip[:port]", "DNS servers to ask", {
            default: "the system's",
          }),
          flag("probe-domain", "domain", "a domain whose MX the port 25 check connects to", {
            default: "gmail.com",
          }),
          flag("tls-cert", "file", "the listener's certificate (PEM)", {
            default:
              "RELAY_TLS_CERT, else RELAY_HOME/tls/cert.pem; with --aws the <prefix>tls secret",
          }),
          flag("timeout", "int", "seconds per network check", { default: "5" }),
        ],
        example: "relay doctor --aws --stack ConnectorRelay-prod --json",
      },
    },
  },
  console: {
    summary:
      "the admin console in a browser (Exchange admin center's mail flow pages), on this machine",
    verbs: {
      "": {
        summary:
          "serve it and print the sign-in address (console: http://127.0.0.1:2580/?token=...); Ctrl-C stops it",
        flags: [
          flag("port", "int", "port to listen on (0: any free port)", { default: "2580" }),
          flag(
            "address",
            "ip",
            "address to listen on; anything but loopback needs --tls-cert and --tls-key",
            {
              default: "127.0.0.1",
            },
          ),
          flag("tls-cert", "file", "certificate (PEM) for HTTPS"),
          flag("tls-key", "file", "private key (PEM) for HTTPS"),
        ],
        example: "relay console --aws --stack ConnectorRelay-prod",
      },
    },
  },
  completion: {
    summary: "shell completion script",
    verbs: {
      bash: {
        summary: "for bash: source <(relay completion bash)",
        flags: [],
        example: "relay completion bash > /etc/bash_completion.d/relay",
      },
      zsh: {
        summary: "for zsh: relay completion zsh > ~/.zfunc/_relay (a directory on $fpath)",
        flags: [],
        example: "source <(relay completion zsh)",
      },
    },
  },
};

/** parseArgs options for one verb's own flags (the common ones are added by parseCommand). */
export function verbOptions(noun: string, verb: string): ParseArgsOptionsConfig {
  const doc = COMMANDS[noun]?.verbs[verb];
  if (!doc) throw new Error(`no verb ${noun} ${verb} in the command table`);
  return Object.fromEntries(
    doc.flags.map((f) => [
      f.flag,
      { type: f.hint === "bool" ? ("boolean" as const) : ("string" as const) },
    ]),
  );
}
