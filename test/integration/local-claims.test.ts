// A restart after kill -9 releases the delivery claims the dead run held: its jobs go out at once, not after the lease.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { LocalTrackingStore } from "#adapters/local/tracking-store.ts";
import { SILENT_LOG } from "#core/log.ts";
import { relayHome } from "#local/home.ts";
import { startPipeline } from "#local/pipeline.ts";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});
/** The tracking store commits each turn's writes together: wait for that commit. */
const settle = () => new Promise((r) => setImmediate(r));

test("a restart releases the claims of the run that was killed, and only then", async () => {
  dir = await mkdtemp(join(tmpdir(), "local-claims-"));
  const home = relayHome(dir);
  const now = new Date();
  const lease = new Date(now.getTime() + 15 * 60_000);
  const dead = new LocalTrackingStore(home.tracking);
  expect(await dead.claim("job-1#0", "killed-run", lease, now)).toEqual({ claimed: true });
  await settle();
  dead.close();

  const other = new LocalTrackingStore(home.tracking);
  // Before the restart the lease stands: nobody else may send the job.
  expect(await other.claim("job-1#0", "new-run", lease, now)).toMatchObject({ claimed: false });
  await settle();
  const pipeline = await startPipeline({ home }, SILENT_LOG);
  try {
    expect(await other.claim("job-1#0", "new-run", lease, new Date())).toEqual({ claimed: true });
  } finally {
    other.close();
    await pipeline.stop();
  }
});
