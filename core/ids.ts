// Identifiers for messages and jobs: sortable by time, unique without coordination.

/** A message id such as "20261124T160512Z-3f9c2a1b7d4e": the UTC time it was received, then random hex. */
export function newMessageId(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  const rand = crypto.getRandomValues(new Uint8Array(6));
  return `${stamp}-${Buffer.from(rand).toString("hex")}`;
}
