// Reads a password from RELAY_PASSWORD or, on a terminal, from a prompt that does not echo.
import { UsageError } from "./errors.ts";

export async function readPassword(prompt: string): Promise<string> {
  const env = process.env.RELAY_PASSWORD;
  if (env !== undefined && env !== "") return env;
  const stdin = process.stdin;
  if (!stdin.isTTY)
    throw new UsageError(
      "no password: set RELAY_PASSWORD in the environment, or run on a terminal to be prompted",
    );
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  let value = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") {
          cleanup();
          process.stderr.write("\n");
          if (value === "") reject(new UsageError("empty password"));
          else resolve(value);
          return;
        }
        if (ch === "\u0003") {
          cleanup();
          reject(new UsageError("cancelled"));
          return;
        }
        if (ch === "\u007f") value = value.slice(0, -1);
        else value += ch;
      }
    };
    const cleanup = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
    };
    stdin.on("data", onData);
  });
}
