// The command table's entries for DKIM signing, the suppression list, named secrets and imports (cli/commands/table.ts holds the rest).
import { bool, flag, type NounDoc } from "./command-doc.ts";

export const ADMIN_NOUNS: Record<string, NounDoc> = {
  "dkim-signing-config": {
    summary:
      "DKIM keys per sender domain (New-, Get-, Set-, Rotate-DkimSigningConfig); prints the DNS records to publish",
    verbs: {
      new: {
        summary:
          "make a key pair (the private key goes only to the secret store) and print its TXT record",
        flags: [
          flag("domain", "domain", "the From domain to sign for (and its subdomains)", {
            required: true,
          }),
          flag("selector", "text", "the key's selector", { default: "relay<yyyymmdd>" }),
          flag("key-type", "rsa|ed25519|rsa,ed25519", "one key, or both for dual signing", {
            default: "rsa",
          }),
          flag("key-size", "int", "RSA key size in bits", { default: "2048" }),
          bool("enabled", "sign at once (--no-enabled: publish first, enable later)"),
          flag("comment", "text", "a note for other admins"),
        ],
        example: "relay dkim-signing-config new --domain contoso.com",
      },
      get: {
        summary: "each domain's selector, state and the TXT records to publish",
        flags: [flag("domain", "domain", "one domain only")],
        example: "relay dkim-signing-config get --domain contoso.com --json",
      },
      set: {
        summary: "turn signing for a domain on or off",
        flags: [
          flag("domain", "domain", "the domain", { required: true }),
          bool("enabled", "sign (--no-enabled or --enabled false: stop signing)"),
        ],
        example: "relay dkim-signing-config set --domain contoso.com --enabled false",
      },
      rotate: {
        summary: "a new key signs at once; the old one stays published (retired) until removed",
        flags: [
          flag("domain", "domain", "the domain", { required: true }),
          flag("key-size", "int", "RSA key size in bits", { default: "2048" }),
        ],
        example: "relay dkim-signing-config rotate --domain contoso.com",
      },
      remove: {
        summary: "remove a domain's config and keys, or one retired key with --selector",
        flags: [
          flag("domain", "domain", "the domain", { required: true }),
          flag("selector", "text", "a retired key to drop"),
        ],
        example: "relay dkim-signing-config remove --domain contoso.com --selector relay20261001",
      },
    },
  },
  suppression: {
    summary:
      "recipients not attempted after a hard bounce (SES's suppression list): list, add, remove",
    verbs: {
      get: {
        summary: "list the suppressed recipients, or show one",
        flags: [flag("recipient", "address", "one recipient only")],
        example: "relay suppression get --recipient ann@fabrikam.com --json",
      },
      new: {
        summary: "suppress a recipient until removed",
        flags: [
          flag("recipient", "address", "the address", { required: true }),
          flag("reason", "text", "why (LastError shows it; the sender's NDR does not)", {
            required: true,
          }),
        ],
        example: 'relay suppression new --recipient ann@fabrikam.com --reason "asked to stop"',
      },
      remove: {
        summary: "mail to the recipient is attempted again",
        flags: [flag("recipient", "address", "the address", { required: true })],
        example: "relay suppression remove --recipient ann@fabrikam.com",
      },
    },
  },
  secret: {
    summary:
      "named secrets the records refer to (an event webhook's signing key), kept encrypted; never shown",
    verbs: {
      set: {
        summary: "create or replace a secret; the value comes from RELAY_PASSWORD or a prompt",
        flags: [flag("name", "text", "the secret's name, e.g. webhooks/app", { required: true })],
        example: "relay secret set --name webhooks/app",
      },
      remove: {
        summary: "delete a secret",
        flags: [flag("name", "text", "the secret's name", { required: true })],
        example: "relay secret remove --name webhooks/app",
      },
    },
  },
  import: {
    summary: "records from another server's configuration",
    verbs: {
      exchange: {
        summary:
          "connectors, accepted domains and transport settings from Exchange's ConvertTo-Json exports; a dry run unless --apply",
        flags: [
          flag("send-connectors", "file", "Get-SendConnector | ConvertTo-Json -Depth 5"),
          flag("receive-connectors", "file", "Get-ReceiveConnector | ConvertTo-Json -Depth 5"),
          flag("accepted-domains", "file", "Get-AcceptedDomain | ConvertTo-Json -Depth 5"),
          flag(
            "transport-config",
            "file",
            "Get-TransportConfig and/or Get-TransportService, ConvertTo-Json -Depth 5",
          ),
          bool("apply", "write the records (without it nothing is written)"),
          bool(
            "replace",
            "overwrite stored records that differ (else they are reported as conflicts)",
          ),
        ],
        example:
          "relay import exchange --send-connectors send.json --receive-connectors receive.json --accepted-domains domains.json --apply",
      },
    },
  },
};
