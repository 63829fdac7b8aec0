// The SMTP courier's pure parts: per-recipient outcomes from nodemailer's replies and errors, and protocol log redaction.
import { describe, expect, it } from "vitest";
import { failureReply, sessionFailure, transactionOutcomes } from "#adapters/smtp/outcomes.ts";
import { protocolLogger } from "#adapters/smtp/protocol-log.ts";

const host = "mx1.fabrikam.test[127.0.0.2]";
const rcpts = ["a@f.test", "b@f.test", "c@f.test"];
const rejected = (recipient: string, response: string) => ({
  message: "Recipient command failed",
  code: "EENVELOPE",
  command: "RCPT TO",
  recipient,
  response,
  responseCode: Number(response.slice(0, 3)),
});

describe("transactionOutcomes", () => {
  it("gives each refused recipient its own RCPT reply and the rest the reply to the data", () => {
    const out = transactionOutcomes(
      rcpts,
      host,
      {
        rejectedErrors: [
          rejected("b@f.test", "550 5.1.1 User unknown"),
          rejected("C@F.test", "452 4.2.2 Mailbox full"),
        ],
      },
      { ok: true, response: "250 2.0.0 Ok: queued as 4F2A" },
    );
    expect(out.map((o) => [o.recipient, o.status, o.reply.code, o.reply.enhanced])).toEqual([
      ["a@f.test", "delivered", 250, "2.0.0"],
      ["b@f.test", "permanent", 550, "5.1.1"],
      ["c@f.test", "transient", 452, "4.2.2"],
    ]);
    expect(out.every((o) => o.remoteHost === host)).toBe(true);
  });

  it("lets a MAIL FROM refusal answer for every recipient, ignoring pipelined 503s", () => {
    const out = transactionOutcomes(
      rcpts,
      host,
      { rejectedErrors: [rejected("a@f.test", "503 5.5.1 Error: need MAIL command")] },
      {
        ok: false,
        err: {
          message: "Mail command failed",
          command: "MAIL FROM",
          response: "550 5.7.1 Sender rejected",
          responseCode: 550,
        },
      },
    );
    expect(out.map((o) => o.reply.enhanced)).toEqual(["5.7.1", "5.7.1", "5.7.1"]);
    expect(out.every((o) => o.status === "permanent")).toBe(true);
  });

  it("applies a refusal of the message data to the accepted recipients only", () => {
    const out = transactionOutcomes(
      rcpts,
      host,
      { rejectedErrors: [rejected("b@f.test", "550 5.1.1 User unknown")] },
      {
        ok: false,
        err: {
          message: "Message failed",
          command: "DATA",
          response: "451 4.3.0 Queue write failed",
          responseCode: 451,
        },
      },
    );
    expect(out.map((o) => `${o.status} ${o.reply.enhanced}`)).toEqual([
      "transient 4.3.0",
      "permanent 5.1.1",
      "transient 4.3.0",
    ]);
  });

  it("treats a connection lost mid-transaction as transient", () => {
    const out = transactionOutcomes(
      rcpts.slice(0, 1),
      host,
      {},
      { ok: false, err: { message: "Connection closed", code: "ECONNECTION" } },
    );
    expect(out[0]).toMatchObject({ status: "transient", reply: { code: 451, enhanced: "4.4.1" } });
  });
});

describe("failureReply", () => {
  it.each([
    [{ message: "Timeout", code: "ETIMEDOUT" }, "4.4.2"],
    [{ message: "Error initiating TLS - bad cert", code: "ETLS" }, "4.7.5"],
    [
      {
        message: "self-signed certificate",
        code: "ESOCKET",
        originalCode: "DEPTH_ZERO_SELF_SIGNED_CERT",
      },
      "4.7.5",
    ],
    [{ message: "connect ECONNREFUSED", code: "ESOCKET", originalCode: "ECONNREFUSED" }, "4.4.1"],
    [{ message: "queryA ENOTFOUND", code: "EDNS" }, "4.4.3"],
    [{ message: "Invalid greeting", code: "EPROTOCOL" }, "4.5.0"],
    // A refused STARTTLS says "TLS", not the server's "500 command not recognized".
    [
      {
        message: "Error upgrading connection with STARTTLS",
        code: "ETLS",
        response: "500 5.5.1 Unknown command",
        responseCode: 500,
      },
      "4.7.5",
    ],
    [
      {
        message: "Invalid login",
        code: "EAUTH",
        response: "535 5.7.8 Bad credentials",
        responseCode: 535,
      },
      "5.7.8",
    ],
  ])("maps %o to %s", (err, enhanced) => {
    expect(failureReply(err).reply.enhanced).toBe(enhanced);
  });

  it("keeps session failures transient whatever the reply class", () => {
    const out = sessionFailure(["a@f.test"], host, {
      message: "Invalid greeting",
      code: "EPROTOCOL",
      response: "554 5.7.1 No service",
      responseCode: 554,
    });
    expect(out[0]).toMatchObject({ status: "transient", reply: { code: 554, enhanced: "5.7.1" } });
  });
});

describe("protocolLogger", () => {
  function run(lines: [string, string][]) {
    const out: string[] = [];
    const log = protocolLogger((d, l) => out.push(`${d} ${l}`));
    for (const [tnx, line] of lines) log.debug({ tnx }, line);
    return out;
  }

  it("keeps only the mechanism of AUTH PLAIN", () => {
    const b64 = Buffer.from("\u0000user@contoso.test\u0000/* secret */").toString("base64");
    expect(
      run([
        ["client", `AUTH PLAIN ${b64}`],
        ["server", "235 2.7.0 Authentication successful"],
        ["client", "MAIL FROM:<a@b.test>"],
      ]),
    ).toEqual([
      "> AUTH PLAIN ****",
      "< 235 2.7.0 Authentication successful",
      "> MAIL FROM:<a@b.test>",
    ]);
  });

  it("hides every client line of an AUTH LOGIN exchange", () => {
    const out = run([
      ["client", "AUTH LOGIN"],
      ["server", "334 VXNlcm5hbWU6"],
      ["client", Buffer.from("user@contoso.test").toString("base64")],
      ["server", "334 UGFzc3dvcmQ6"],
      ["client", Buffer.from("/* secret */").toString("base64")],
      ["server", "235 2.7.0 Accepted"],
      ["client", "MAIL FROM:<a@b.test>"],
    ]);
    expect(out).toEqual([
      "> AUTH LOGIN",
      "< 334 VXNlcm5hbWU6",
      "> ****",
      "< 334 UGFzc3dvcmQ6",
      "> ****",
      "< 235 2.7.0 Accepted",
      "> MAIL FROM:<a@b.test>",
    ]);
  });

  it("splits multi-line replies and formats client-side events", () => {
    const out: string[] = [];
    const log = protocolLogger((d, l) => out.push(`${d} ${l}`));
    log.debug({ tnx: "server" }, "250-mx.test\r\n250 STARTTLS");
    log.info({ tnx: "network" }, "Connection established to %s:%s", "127.0.0.1", 25);
    expect(out).toEqual([
      "< 250-mx.test",
      "< 250 STARTTLS",
      "* Connection established to 127.0.0.1:25",
    ]);
  });
});
