// CLI errors and their exit codes: 2 for bad input (the message names the flag or field), 3 for not found.

export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly exitCode = 2;
}

export class NotFoundCliError extends Error {
  override readonly name = "NotFoundCliError";
  readonly exitCode = 3;
}
