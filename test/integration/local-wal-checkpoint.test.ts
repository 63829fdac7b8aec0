// Tracking's WAL is copied into tracking.db by the checkpointer thread, not inside the writer's commits (local mode).
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { BACKSTOP_CHECKPOINT_PAGES, startCheckpointer } from "#adapters/local/checkpointer.ts";
import { LocalTrackingStore } from "#adapters/local/tracking-store.ts";
import type { RecipientRow } from "#core/ports.ts";
import { waitFor } from "#test/support/relay-process.ts";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const size = async (path: string) => (await stat(path).catch(() => ({ size: 0 }))).size;

/** About 2,800 WAL pages (7 a row): past SQLite's own checkpoint threshold (1,000), below the backstop. */
async function writeRows(tracking: LocalTrackingStore, count: number): Promise<void> {
  const at = new Date().toISOString();
  for (let i = 0; i < count; i++) {
    const row: RecipientRow = {
      messageId: `m-${i}`,
      recipient: `user${i}@contoso.com`,
      sender: "app@fabrikam.com",
      status: "Deferred",
      receivedAt: at,
      updatedAt: at,
      attempts: 1,
      lastError: `mx1.contoso.com[10.0.0.5]: 451 4.7.1 Try later ${"x".repeat(3000)}`,
    };
    await tracking.put(row);
    // One commit per row, as the pipeline's Delivered records are (TrackingStore.flush).
    await tracking.flush();
  }
}

test("the writer's commits leave the WAL to the checkpointer thread, which copies it into the database", async () => {
  dir = await mkdtemp(join(tmpdir(), "local-wal-"));
  const path = join(dir, "tracking.db");
  const tracking = new LocalTrackingStore(path, { autocheckpointPages: BACKSTOP_CHECKPOINT_PAGES });
  const empty = await size(path);
  await writeRows(tracking, 400);
  // No commit checkpointed: every row is still only in the WAL, and the database file is as made.
  expect(await size(`${path}-wal`)).toBeGreaterThan(1000 * 4096);
  expect(await size(path)).toBe(empty);

  const checkpointer = startCheckpointer(path);
  try {
    await waitFor(
      "the WAL copied into tracking.db",
      async () => (await size(path)) > 1_000_000,
      10_000,
    );
  } finally {
    await checkpointer.stop();
  }
  tracking.close();
  const reopened = new LocalTrackingStore(path);
  try {
    expect((await reopened.get("m-399", "user399@contoso.com"))?.status).toBe("Deferred");
  } finally {
    reopened.close();
  }
});

test("without a checkpointer thread the writer keeps SQLite's own threshold", async () => {
  dir = await mkdtemp(join(tmpdir(), "local-wal-"));
  const path = join(dir, "tracking.db");
  const tracking = new LocalTrackingStore(path);
  const empty = await size(path);
  await writeRows(tracking, 400);
  // Past 1,000 pages a commit checkpointed by itself (the CLI and tests open the store this way).
  expect(await size(path)).toBeGreaterThan(empty);
  tracking.close();
});
