// Contract every queue adapter passes: durable send, receive with receive counts, delete, delay, visibility.
import { describe, expect, test } from "vitest";
import type { QueueConsumer } from "#adapters/queue-consumer.ts";
import type { QueueProducer } from "#core/ports.ts";

export type TestQueue<T> = QueueProducer<T> & QueueConsumer<T>;

/** `advance` moves time forward (a manual clock, or real waiting for emulators). */
export function queueContract(
  name: string,
  make: () => Promise<{ queue: TestQueue<{ n: number }>; advance: (ms: number) => Promise<void> }>,
): void {
  describe(`Queue contract: ${name}`, () => {
    test("send, receive, delete", async () => {
      const { queue } = await make();
      await queue.send({ n: 1 });
      await queue.send({ n: 2 });
      const got = await queue.receive(10, 30);
      expect(got.map((m) => m.body.n).sort()).toEqual([1, 2]);
      expect(got.every((m) => m.receiveCount === 1)).toBe(true);
      for (const m of got) await queue.delete(m.receiptHandle);
      expect(await queue.receive(10, 30)).toEqual([]);
    });

    test("a message not deleted is received again after its visibility timeout, with receiveCount 2", async () => {
      const { queue, advance } = await make();
      await queue.send({ n: 7 });
      const [first] = await queue.receive(10, 1);
      expect(first?.body.n).toBe(7);
      expect(await queue.receive(10, 1)).toEqual([]);
      await advance(1500);
      const [again] = await queue.receive(10, 1);
      expect(again?.receiveCount).toBe(2);
    });

    test("delay hides a message until due", async () => {
      const { queue, advance } = await make();
      await queue.send({ n: 3 }, { delaySeconds: 1 });
      expect(await queue.receive(10, 30)).toEqual([]);
      await advance(1500);
      expect((await queue.receive(10, 30)).map((m) => m.body.n)).toEqual([3]);
    });

    test("changeVisibility to 0 makes a received message available at once", async () => {
      const { queue } = await make();
      await queue.send({ n: 4 });
      const [m] = await queue.receive(10, 30);
      await queue.changeVisibility(m!.receiptHandle, 0);
      expect((await queue.receive(10, 30)).map((x) => x.body.n)).toEqual([4]);
    });
  });
}
