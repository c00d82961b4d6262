/**
 * A worker thread of a population run (score-kept.ts): scores the pages of kept facts it is sent and answers with
 * what each leaves to write, or with the error that stopped it (the run then fails, naming the patient).
 */
import { parentPort } from 'node:worker_threads';
import { type KeptRow, scoreKeptRows } from './score-kept.ts';

parentPort!.on('message', ({ id, rows, asOf }: { id: number; rows: KeptRow[]; asOf: string }) => {
  try {
    parentPort!.postMessage({ id, work: scoreKeptRows(rows, asOf) });
  } catch (error) {
    parentPort!.postMessage({ id, error: (error as Error).message });
  }
});
