// Entry of local mode's pipeline thread: route and deliver on their own core, beside the listener.
// The listener thread writes each accepted message into the submission spool (fsynced) and then
// tells this thread its file name, so it is routed at once instead of at the next directory scan.
import { parentPort, workerData } from "node:worker_threads";
import { componentLog } from "#adapters/observability/logger.ts";
import { type PipelineSettings, startPipeline } from "./pipeline.ts";

export type ToPipeline = { type: "adopt"; file: string; text: string } | { type: "stop" };
export type FromPipeline =
  | { type: "ready"; recovered: number }
  | { type: "stopped" }
  | { type: "failed"; message: string };

const port = parentPort;
if (!port) throw new Error("pipeline-thread.ts runs as a worker thread of local mode");

try {
  const pipeline = await startPipeline(
    workerData as PipelineSettings,
    componentLog("relay-pipeline", process.stderr),
  );
  port.on("message", (m: ToPipeline) => {
    if (m.type === "adopt") pipeline.submission.adopt(m.file, m.text);
    else if (m.type === "stop") {
      void pipeline.stop().then(() => {
        port.postMessage({ type: "stopped" } satisfies FromPipeline);
        port.close();
      });
    }
  });
  port.postMessage({ type: "ready", recovered: pipeline.recovered } satisfies FromPipeline);
} catch (error) {
  port.postMessage({ type: "failed", message: (error as Error).message } satisfies FromPipeline);
}
