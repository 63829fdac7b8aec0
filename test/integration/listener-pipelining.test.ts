// RFC 2920 pipelining: commands a client sends together are all answered, in order (the listener
// holds the replies of one event-loop turn and writes them at its end, so a lost flush would hang here).
import { connect, type Socket } from "node:net";
import { expect, test } from "vitest";
import { acceptedDomain, receiveConnector, useTestListener } from "#test/support/listener.ts";

const h = useTestListener();

/** Resolves what the socket reads until `count` final reply lines ("ddd text\r\n") have come. */
function nextReplies(socket: Socket, count = 1): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    const onData = (chunk: Buffer) => {
      text += chunk.toString("latin1");
      if ((text.match(/(^|\r\n)\d{3} [^\r\n]*(?=\r\n)/g) ?? []).length >= count) {
        socket.off("data", onData);
        resolve(text);
      }
    };
    socket.on("data", onData);
  });
}

test("MAIL, RCPT and DATA sent in one packet get their three replies, in order, and the message is queued", async () => {
  await h.start([receiveConnector("Default", { greetingDelay: 0 }), acceptedDomain("contoso.com")]);
  const socket = connect({ host: "127.0.0.1", port: h.t.port() });
  try {
    expect(await nextReplies(socket)).toMatch(/^220 /);
    socket.write("EHLO app.example\r\n");
    expect(await nextReplies(socket)).toMatch(/250-PIPELINING\r\n/);
    const replies = nextReplies(socket, 3);
    socket.write("MAIL FROM:<app@example.org>\r\nRCPT TO:<ann@contoso.com>\r\nDATA\r\n");
    const text = await replies;
    expect(
      text
        .split("\r\n")
        .filter(Boolean)
        .map((l) => l.slice(0, 3)),
    ).toEqual(["250", "250", "354"]);
    const queued = nextReplies(socket);
    socket.write("Subject: pipelined\r\n\r\nhello\r\n.\r\n");
    expect(await queued).toMatch(/^250 2\.6\.0 /);
  } finally {
    socket.destroy();
  }
});
