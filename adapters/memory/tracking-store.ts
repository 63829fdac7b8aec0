// In-memory tracking store (per-recipient rows with conditional updates, and the event log), for tests.
import {
  FINAL_STATUSES,
  type JobClaim,
  type RecipientRow,
  type RecipientStatus,
  type RowEvent,
  type TrackingEvent,
  type TrackingStore,
} from "#core/ports.ts";

const keyOf = (messageId: string, recipient: string) =>
  `${messageId}\u0000${recipient.toLowerCase()}`;

export class MemoryTrackingStore implements TrackingStore {
  readonly #rows = new Map<string, RecipientRow>();
  readonly #events: TrackingEvent[] = [];
  readonly #claims = new Map<string, { holder: string; until: number }>();

  async claim(key: string, holder: string, until: Date, now: Date): Promise<JobClaim> {
    const standing = this.#claims.get(key);
    if (standing && standing.holder !== holder && standing.until > now.getTime())
      return { claimed: false, until: new Date(standing.until).toISOString() };
    this.#claims.set(key, { holder, until: until.getTime() });
    return { claimed: true };
  }

  async release(key: string, holder: string): Promise<void> {
    if (this.#claims.get(key)?.holder === holder) this.#claims.delete(key);
  }

  async put(row: RecipientRow): Promise<void> {
    this.#rows.set(keyOf(row.messageId, row.recipient), { ...row });
  }

  async create(row: RecipientRow, event?: RowEvent): Promise<boolean> {
    const key = keyOf(row.messageId, row.recipient);
    if (this.#rows.has(key)) return false;
    this.#rows.set(key, { ...row });
    if (event) this.#rowEvent(row, event);
    return true;
  }

  #rowEvent(row: RecipientRow, event: RowEvent): void {
    const { messageId, recipient, sender } = row;
    this.#events.push({ messageId, recipient, sender, ...event });
  }

  async update(
    messageId: string,
    recipient: string,
    patch: Partial<RecipientRow>,
    options: { ifStatusIn?: RecipientStatus[]; event?: RowEvent } = {},
  ): Promise<boolean> {
    const row = this.#rows.get(keyOf(messageId, recipient));
    if (!row) return false;
    if (options.ifStatusIn && !options.ifStatusIn.includes(row.status)) return false;
    Object.assign(row, patch);
    if (options.event) this.#rowEvent(row, options.event);
    return true;
  }

  async get(messageId: string, recipient: string): Promise<RecipientRow | undefined> {
    const row = this.#rows.get(keyOf(messageId, recipient));
    return row ? { ...row } : undefined;
  }

  async listByMessage(messageId: string): Promise<RecipientRow[]> {
    return [...this.#rows.values()].filter((r) => r.messageId === messageId).map((r) => ({ ...r }));
  }

  async listActive(): Promise<RecipientRow[]> {
    return [...this.#rows.values()]
      .filter((r) => !FINAL_STATUSES.includes(r.status))
      .map((r) => ({ ...r }));
  }

  async addEvent(event: TrackingEvent): Promise<void> {
    this.#events.push({ ...event });
  }

  async events(query: {
    messageId?: string;
    sender?: string;
    recipient?: string;
  }): Promise<TrackingEvent[]> {
    const lc = (s?: string) => s?.toLowerCase();
    return this.#events.filter(
      (e) =>
        (query.messageId === undefined || e.messageId === query.messageId) &&
        (query.sender === undefined || lc(e.sender) === lc(query.sender)) &&
        (query.recipient === undefined || lc(e.recipient) === lc(query.recipient)),
    );
  }
}
