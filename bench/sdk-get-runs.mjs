// The read side's baseline loop over the official SDK (parallel-web 1.3: `client.taskGroup.getRuns`,
// GET /v1/tasks/groups/{id}/runs as SSE; there is no `client.beta.taskGroup` in this version):
// every task_run.state event with its input and output, written as one JSON line, as
// `tg fetch --format jsonl` writes them. Run as a child by bench/limits.mjs so its peak RSS is
// measured the same way as tg's.
// Usage: PARALLEL_API_KEY=… node bench/sdk-get-runs.mjs <base-url> <taskgroup_id> <out.jsonl>
import { createWriteStream } from 'node:fs';
import Parallel from 'parallel-web';

const [baseURL, group, file] = process.argv.slice(2);
if (!file) throw new Error('usage: node bench/sdk-get-runs.mjs <base-url> <taskgroup_id> <out.jsonl>');
const client = new Parallel({ apiKey: process.env.PARALLEL_API_KEY, baseURL });
const out = createWriteStream(file);
const stream = await client.taskGroup.getRuns(group, { include_input: true, include_output: true });
let n = 0;
for await (const ev of stream) {
  if (ev.type !== 'task_run.state') throw new Error(`the listing sent ${JSON.stringify(ev)}`);
  n++;
  if (!out.write(JSON.stringify(ev) + '\n')) await new Promise((r) => out.once('drain', () => r(undefined)));
}
await new Promise((r) => out.end(() => r(undefined)));
process.stderr.write(`${n} runs\n`);
