// Bundle entry. `run` is the CLI; the rest is exported for tests and for users who embed tg.
export { run, buildProgram, VERSION } from './cli';
export * from './errors';
export * from './core/backoff';
export * from './core/rateBudget';
export * from './core/plan';
export * from './core/util';
export { ApiClient } from './api/client';
export { startEmulator, createEmulator } from './emulator/server';
export { generateOutput } from './emulator/outputs';
export { flatten, csvLine, orderColumns } from './core/flatten';
export { prepareRow, loadSpec, formatIssue } from './core/spec';
export { replayJournal } from './commands/submit/journal';
export { Ledger, rowIdent, presenceKey, rowSha, runIdent, keyColumnChange } from './core/ledger';
export { peekEvent } from './core/peek';
export { mulberry32 } from './emulator/rng';
