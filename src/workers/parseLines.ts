// A worker thread that parses the events of a group stream for the main thread (api/lineParser.ts):
// each message is a batch of event texts, each answer its description (api/runLines.ts), in the
// order received. JSON.parse is most of the CPU time of reading a listing; here it runs on the
// second core while the main thread reads the network, splits the stream and writes the file.
import { parentPort } from 'node:worker_threads';
import { describe } from '../api/runLines';

if (parentPort) {
  const port = parentPort;
  port.on('message', (texts: string[]) => port.postMessage(describe(texts)));
}
