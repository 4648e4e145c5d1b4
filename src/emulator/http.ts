// HTTP primitives of the emulator: the error type handlers throw, the vendor's error body, the
// JSON body reader and an SSE writer with batching, backpressure and the drop fault.
import type http from 'node:http';
import { randomUUID } from 'node:crypto';

export type Issue = { loc: (string | number)[]; msg: string; type: string };

/** What a handler returns: a JSON answer, or null when it wrote (or dropped) the response itself. */
export type Reply = { status: number; body?: string; headers?: Record<string, string> } | null;

export class HttpFail {
  constructor(
    readonly status: number,
    readonly message: string,
    readonly detail?: Issue[],
    readonly headers?: Record<string, string>,
  ) {}
}

export const v = (loc: (string | number)[], msg: string, type = 'value_error'): Issue => ({ loc, msg, type });

export function errorBody(message: string, detail?: Issue[]): string {
  const body: Record<string, unknown> = { type: 'error', error: { ref_id: randomUUID(), message, ...(detail ? { detail: { errors: detail } } : {}) } };
  // Validation errors also carry FastAPI's top-level `detail` list (the spec's HTTPValidationError).
  if (detail) body.detail = detail;
  return JSON.stringify(body);
}

const MAX_BODY = 64 * 1024 * 1024;

export async function readBody(req: http.IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new HttpFail(413, 'Request body too large');
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpFail(422, 'Request body is not valid JSON', [v(['body'], 'JSON decode error', 'json_invalid')]);
  }
}

/** An SSE response with batching, backpressure and the --drop-streams-after fault. */
export class SseWriter {
  private buf: string[] = [];
  private size = 0;
  sent = 0;
  dead = false;
  constructor(
    private readonly res: http.ServerResponse,
    private readonly dropAfter: number,
    private readonly onDrop: () => void,
  ) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.on('close', () => {
      this.dead = true;
    });
  }

  /** Queue one event; returns a promise only when the socket needs draining. */
  event(type: string, json: string): Promise<void> | void {
    if (this.dead) return;
    const frame = `event: ${type}\ndata: ${json}\n\n`;
    if (this.dropAfter > 0 && this.sent >= this.dropAfter) {
      // Cut the connection in the middle of the next event.
      this.buf.push(frame.slice(0, Math.max(1, frame.length >> 1)));
      this.flushNow();
      this.dead = true;
      this.onDrop();
      setImmediate(() => this.res.socket?.destroy());
      return;
    }
    this.sent++;
    this.buf.push(frame);
    this.size += frame.length;
    if (this.size >= 65536) return this.flush();
  }

  comment(text: string) {
    if (this.dead) return;
    this.buf.push(`: ${text}\n\n`);
    this.flushNow();
  }

  private flushNow(): boolean {
    if (!this.buf.length) return true;
    const chunk = this.buf.join('');
    this.buf = [];
    this.size = 0;
    return this.res.write(chunk);
  }

  flush(): Promise<void> | void {
    if (this.dead) return;
    if (!this.flushNow()) {
      return new Promise((resolve) => {
        const done = () => {
          this.res.off('drain', done);
          this.res.off('close', done);
          resolve();
        };
        this.res.on('drain', done);
        this.res.on('close', done);
      });
    }
  }

  end() {
    if (this.dead) return;
    this.flushNow();
    this.res.end();
  }
}
