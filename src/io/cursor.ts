// The cursor of a results file (`<file>.tg.json`): its state, the sink interface the commands
// write lines through.
export interface CursorState {
  tg: 'cursor';
  v: 1;
  kind: string; // 'watch' | 'fetch-jsonl' | 'fetch-csv'
  group: string;
  last_event_id: string | null;
  bytes: number;
  lines: number;
  counts: Record<string, number>;
  extra?: Record<string, unknown>;
  /** "emulator" for results of the in-process --emulator (whose groups vanish with it). */
  origin?: string;
  updated_at?: string;
}

export const cursorPath = (file: string) => `${file}.tg.json`;

export interface OutputSink {
  /** Queue one line (without newline) that covers the stream up to eventId. */
  line(text: string, status?: string): void;
  setEventId(eventId: string | null): void;
  /** Replace the cursor's `extra` (saved with the lines queued so far, not before them). */
  setExtra(extra: Record<string, unknown>): void;
  /** Make queued lines durable and save the cursor. */
  flush(): Promise<void>;
  /** Start a flush unless one is under way, without waiting for it (its failure is thrown by a later call). */
  checkpoint(): void;
  /** A promise to wait on before queuing more when the output is a pipe that is full (else null): constant memory. */
  drain(): Promise<void> | null;
  close(): Promise<void>;
  /** The saved cursor (a FileSink's: what is durable; a StdoutSink's counts what was written). */
  readonly state: CursorState;
  pendingLines(): number;
}
