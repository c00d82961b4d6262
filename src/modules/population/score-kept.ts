/**
 * A run's scoring of the facts kept, a page at a time: each patient's facts parsed and every rule applied, and only
 * what must be written handed back — the patients whose result says something new, or whose frailty assessment is
 * not the one held. Pure (no database), so it runs as well on worker threads beside the thread that reads and
 * writes (score-worker.ts): on a population of a million the rules are most of a run's work.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { evaluatePatient } from './evaluate.ts';
import type { PatientFacts } from './facts.ts';
import { type HeldAssessment, holdsExactly } from './facts-store.ts';
import type { PopulationResult } from './results.ts';
import { frailtyAssessmentId } from './risk-assessment.ts';
import { resultSays } from './stored-results.ts';

/** One patient's row of kept facts, as read (facts-store.ts readKeptRows). */
export interface KeptRow {
  patient_id: string;
  facts: string;
  held: string;
  /** What the stored result under the current rules says, and its day; null when there is none. */
  says: string | null;
  as_of: string | null;
}

/** What a page leaves to write: the patients with something to store, and what their stored results say. */
export interface PageWork {
  patients: number;
  todo: { held: HeldAssessment[]; result: PopulationResult }[];
  stored: [string, { says: string; asOf: string }][];
}

export function scoreKeptRows(rows: readonly KeptRow[], asOf: string): PageWork {
  const work: PageWork = { patients: rows.length, todo: [], stored: [] };
  for (const row of rows) {
    const facts = JSON.parse(row.facts) as PatientFacts;
    let result: PopulationResult;
    try {
      result = evaluatePatient(facts, asOf);
    } catch (error) {
      throw new Error(`the population rules failed for Patient/${facts.patientId}: ${(error as Error).message}`);
    }
    const held = JSON.parse(row.held) as HeldAssessment[];
    const unchanged = row.says !== null && row.as_of !== null && row.as_of <= asOf && row.says === resultSays(result);
    // The assessment held was written with the stored result (one changed by someone else since was re-read and
    // re-scored from the feed before the run began scoring): a result that says the same, with the one assessment
    // it says held, has nothing to write.
    if (unchanged && holdsExactly(held, frailtyAssessmentId(result))) continue;
    work.todo.push({ held, result });
    if (row.says !== null && row.as_of !== null) work.stored.push([facts.patientId, { says: row.says, asOf: row.as_of }]);
  }
  return work;
}

/** Threads for a run of this many patients: none for a small one (starting a thread costs more than it saves). */
export function scoringThreads(patients: number): number {
  return patients < 20_000 ? 0 : Math.min(availableParallelism(), 4);
}

/**
 * Scores the pages in order, on `threads` worker threads (0: on this thread), keeping two pages a thread in hand
 * so the threads never wait for the reads.
 */
export async function* scorePages(pages: AsyncIterable<KeptRow[]>, asOf: string, threads: number): AsyncGenerator<PageWork> {
  if (threads <= 0) {
    for await (const page of pages) yield scoreKeptRows(page, asOf);
    return;
  }
  const pool = Array.from({ length: threads }, () => new ScoringThread());
  try {
    const inHand: Promise<PageWork>[] = [];
    let next = 0;
    for await (const page of pages) {
      const scoring = pool[next++ % threads]!.score(page, asOf);
      scoring.catch(() => undefined);
      inHand.push(scoring);
      if (inHand.length >= threads * 2) yield await inHand.shift()!;
    }
    while (inHand.length > 0) yield await inHand.shift()!;
  } finally {
    await Promise.all(pool.map((t) => t.close()));
  }
}

/** One worker thread running score-worker.ts, taking pages in turn. */
class ScoringThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (work: PageWork) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  private failed: Error | undefined;

  constructor() {
    // The thread runs TypeScript as this process does: tsx registered first, then the entry imported.
    const tsx = import.meta.resolve('tsx/esm/api');
    const entry = new URL('./score-worker.ts', import.meta.url).href;
    this.worker = new Worker(`import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`, {
      eval: true,
      // A young generation for a page's short-lived objects (facts parsed, results made, most dropped at once): with
      // the default one a run at 1.1M patients spent ~15 % more CPU collecting (57 s against 50 s; 96 MB 54 s, 384 MB 50 s).
      resourceLimits: { maxYoungGenerationSizeMb: 256 },
    });
    this.worker.on('message', (message: { id: number; work?: PageWork; error?: string }) => {
      const waiter = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      if (message.error !== undefined) waiter?.reject(new Error(message.error));
      else waiter?.resolve(message.work!);
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`a population scoring thread stopped (exit code ${code})`)));
  }

  score(rows: KeptRow[], asOf: string): Promise<PageWork> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, rows, asOf });
    });
  }

  private fail(error: Error): void {
    this.failed ??= error;
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
