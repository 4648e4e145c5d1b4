// What SIGINT and SIGTERM mean to tg (src/main.ts wires this to the process): the first stops the
// command cleanly (exit 130, resumable); a second exits at once; one after the command has
// finished ends the process with the command's own exit status.
//
// A signal is counted once per event. One sender can deliver the same signal twice at once:
// timeout(1) signals the command and then its whole process group, which holds the command too.
// When tg is busy, both arrive before it can act on either; when it is idle the kernel merges
// them. So a signal of the same kind as the one just handled, before tg has had a turn of its
// event loop since (the turn in which it acted on the first), is the same delivery, not a second
// Ctrl-C. A person's second Ctrl-C comes after tg has reacted to the first (it says it is
// stopping), and exits at once. No clock: a test sends its second signal once it has seen tg react.
import { EXIT } from '../errors';

export type SignalAction =
  /** The first signal: abort the command; it stops cleanly. */
  | { act: 'stop' }
  /** The same delivery again: nothing to do, nothing to say. */
  | { act: 'ignore' }
  /** Exit now with `code` (undefined: the command's own), saying `say` if set. */
  | { act: 'exit'; code?: number; say?: string };

export class SignalPolicy {
  private first: NodeJS.Signals | null = null;
  /** The signal handled in this turn of the event loop (cleared by `nextTurn`). */
  private thisTurn: NodeJS.Signals | null = null;
  /** The command has finished: the process is winding down. */
  finished = false;

  /** `nextTurn(f)` calls f once the event loop has turned (setImmediate). */
  constructor(private readonly nextTurn: (f: () => void) => void) {}

  on(sig: NodeJS.Signals): SignalAction {
    if (sig === this.thisTurn) return { act: 'ignore' };
    if (this.thisTurn === null) this.nextTurn(() => (this.thisTurn = null));
    this.thisTurn = sig;
    if (this.first === null) {
      if (this.finished) return { act: 'exit' };
      this.first = sig;
      return { act: 'stop' };
    }
    return { act: 'exit', code: EXIT.INTERRUPTED, say: sig === this.first ? `${sig} again: exiting now` : `${sig} after ${this.first}: exiting now` };
  }
}
