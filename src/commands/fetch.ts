import type { Context } from '../context';
export async function fetch(_o: unknown, _ctx: Context): Promise<number> { throw new Error('todo'); }
