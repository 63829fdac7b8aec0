// Entry of local mode's pipeline thread: route and deliver on their own core, beside the listener.
// It reaches the queues through the port it is given to their writer on the listener's thread; the
// listener's messages arrive there, and each commit that makes one visible wakes this thread's workers.
import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import { QueuePortClient } from "#adapters/local/queue-port.ts";
import { componentLog } from "#adapters/observability/logger.ts";
import { type PipelineSettings, startPipeline } from "./pipeline.ts";
import { backgroundThisThread } from "./thread-priority.ts";

export type ToPipeline = { type: "stop" };
export type FromPipeline =
  | { type: "ready"; recovered: number }
  | { type: "stopped" }
  | { type: "failed"; message: string };

const port = parentPort;
if (!port) throw new Error("pipeline-thread.ts runs as a worker thread of local mode");
const { queuePort, ...settings } = workerData as PipelineSettings & { queuePort: MessagePort };
const log = componentLog("relay-pipeline", process.stderr);
const priority = backgroundThisThread(settings.deliveryPriority);
if (settings.deliveryPriority === "idle" && priority?.policy !== "idle")
  log.warn("RELAY_DELIVERY_PRIORITY=idle not applied: chrt could not set SCHED_IDLE", {
    priority: priority ?? "unchanged (not Linux)",
  });
const queues = new QueuePortClient(queuePort);
try {
  const pipeline = await startPipeline(settings, log, process.stderr, queues);
  port.on("message", (m: ToPipeline) => {
    if (m.type === "stop") {
      void pipeline.stop().then(() => {
        queues.close();
        port.postMessage({ type: "stopped" } satisfies FromPipeline);
        port.close();
      });
    }
  });
  port.postMessage({ type: "ready", recovered: pipeline.recovered } satisfies FromPipeline);
} catch (error) {
  port.postMessage({ type: "failed", message: (error as Error).message } satisfies FromPipeline);
}
