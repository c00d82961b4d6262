/**
 * `pcn population run`: every patient scored as of one day, a batch at a time, each batch's results (and the
 * RiskAssessments that follow them) committed together; only what says something new is written. The first run
 * reads every record whole and keeps each patient's facts (facts-store.ts); later runs bring those up to the record
 * through the change feed, then score from them. It reads every record as the system, for direct
 * care (proactive care of the network's own patients, so the national data opt-out does not apply; dissent
 * from sharing limits who SEES a record, not the practice's care of its patients), and is audited as ONE
 * system operation: the run, its day and its rule set, not a look per patient.
 */
import { analyseStore, catchUpChanges, countPatients, type RequestContext, scanCompartments, settledFeedPosition } from '../../fhir-store/index.ts';
import type { Db } from '../../storage/db.ts';
import { systemContext } from '../record/index.ts';
import { parseAsOf } from './as-of.ts';
import { snapshotDashboardMonth } from './dashboard-data.ts';
import { clearFacts, countKeptFacts, FACTS_VERSION, keptFactsCurrent, readKeptRows, saveFacts, saveHeld, scoredPatientOf, storedSays } from './facts-store.ts';
import { type PageWork, scorePages, scoringThreads } from './score-kept.ts';
import { RULES_VERSION } from './rules-version.ts';
import { evaluatePatients, FOLLOWED_TYPES, rescoreChanges, SCORED_TYPES, storeResults } from './score-patients.ts';

/** The change feed consumer that keeps population health current (the server's follower; a run catches it up). */
export const POPULATION_CONSUMER = 'population';

export interface PopulationRunOptions {
  /** `YYYY-MM-DD`. */
  asOf: string;
  /** Patients per batch (default 1,000). */
  batchSize?: number;
  /** Patients scored so far, of about how many. */
  onProgress?: (done: number, total: number) => void;
  /** Worker threads scoring the facts kept (default: none under 20,000 patients, else one a core, at most 4). */
  threads?: number;
  signal?: AbortSignal;
}

export interface PopulationRun {
  runId: number;
  asOf: string;
  rulesVersion: string;
  patients: number;
  /** The run read every record whole and built the facts it keeps (the first run, or the facts' format changed). */
  builtFacts: boolean;
}

const DEFAULT_BATCH = 1000;
/** A run from the facts kept writes after this many pages, or sooner once this many patients have something to write. */
const GROUP_PAGES = 20;
const GROUP_TODO = 500;
/** RiskAssessments written or removed by a run (and a tenth of its patients) before it refreshes the planner's statistics. */
const ANALYSE_AFTER_WRITES = 2000;

export async function runPopulation(db: Db, options: PopulationRunOptions): Promise<PopulationRun> {
  const asOf = parseAsOf(options.asOf);
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  const command = `pcn population run --as-of ${asOf}`;
  const context = await systemContext(db, command, 'direct-care');
  const kept = await factsKeptSince(db);
  const runId = await db.transaction(async (tx) => {
    const [run] = await tx.query<{ id: number }>('INSERT INTO population_run (as_of, rules_version, facts_version) VALUES ($1, $2, $3) RETURNING id', [
      asOf,
      RULES_VERSION,
      kept === undefined ? FACTS_VERSION : null,
    ]);
    await context.audit.event(tx, {
      action: 'population.run',
      entityType: 'PopulationRun',
      entityId: String(run!.id),
      summary: `Population health: every patient's record read and scored as of ${asOf} (rules ${RULES_VERSION}), direct care (proactive care)`,
      detail: { asOf, rulesVersion: RULES_VERSION, purpose: 'direct-care' },
    });
    return run!.id;
  });
  // Every change up to here is in what the run scores: a follower starting afresh after this run begins here.
  const position = await settledFeedPosition(db, options.signal);
  await db.query('UPDATE population_run SET feed_position = $2 WHERE id = $1', [runId, position]);
  // How many to expect (the progress bar): the facts kept when there are (a count of a narrow table), else the store's Patients.
  const total = kept === undefined ? await countPatients(db) : await countKeptFacts(db);
  let done = 0;
  let written = 0;
  const progress = async (tx: Db, patients: number) => {
    await tx.query('UPDATE population_run SET patients = patients + $2 WHERE id = $1', [runId, patients]);
    done += patients;
  };
  if (kept === undefined) {
    await buildAndScore(db, context, asOf, {
      batchSize,
      signal: options.signal,
      progress,
      onProgress: () => options.onProgress?.(done, Math.max(total, done)),
      wrote: (n) => {
        written += n;
      },
    });
  } else {
    // The facts kept are those of the record as the consumer has followed it: bring it up to the record as it
    // stands (the changes since, each patient's facts rebuilt and scored as of this run's day), then score everyone.
    await catchUpChanges(
      db,
      POPULATION_CONSUMER,
      rescoreChanges(context, () => asOf),
      { types: FOLLOWED_TYPES, from: kept, skipTo: kept, signal: options.signal },
    );
    const pages = readKeptRows(db, RULES_VERSION, { batchSize, signal: options.signal });
    // Pages with nothing to write are most of a nightly run: their work is written a group of pages at a time (one
    // transaction, one audit record), not a transaction a page (at 1.1M that was ~15 s of round trips).
    let pending: PageWork[] = [];
    const flush = async () => {
      const group = pending;
      pending = [];
      const todo = group.flatMap((w) => w.todo);
      await db.transaction(async (tx) => {
        const { held, writes } = await storeResults(
          tx,
          context,
          todo,
          todo.map((t) => t.result),
          { stored: new Map(group.flatMap((w) => w.stored)) },
        );
        await saveHeld(tx, held);
        written += writes;
        await progress(
          tx,
          group.reduce((n, w) => n + w.patients, 0),
        );
      });
      options.onProgress?.(done, Math.max(total, done));
    };
    for await (const work of scorePages(pages, asOf, options.threads ?? scoringThreads(total))) {
      pending.push(work);
      if (pending.length >= GROUP_PAGES || pending.reduce((n, w) => n + w.todo.length, 0) >= GROUP_TODO) await flush();
    }
    if (pending.length > 0) await flush();
  }
  // Many RiskAssessments written (a first run, a new model): the planner learns of them now. Left to autovacuum (a
  // tenth of a 10M-row store must change first) its statistics still said there were none, and each later write of one
  // scanned them all (a nightly run at 1.1M patients took 11 minutes instead of one).
  if (written >= Math.max(ANALYSE_AFTER_WRITES, done / 10)) await analyseStore(db);
  // The month's point of the dashboards' trend, from the results as this run leaves them.
  await snapshotDashboardMonth(db, runId, asOf);
  await db.query('UPDATE population_run SET finished_at = now() WHERE id = $1', [runId]);
  return { runId, asOf, rulesVersion: RULES_VERSION, patients: done, builtFacts: kept === undefined };
}

/**
 * Every record read whole (a store scan), each patient's facts built and kept, and everyone scored: what the first
 * run does, and any run after the facts' format has changed.
 */
async function buildAndScore(
  db: Db,
  context: RequestContext,
  asOf: string,
  options: { batchSize: number; signal?: AbortSignal; progress: (tx: Db, patients: number) => Promise<void>; onProgress: () => void; wrote: (n: number) => void },
): Promise<void> {
  await clearFacts(db);
  for await (const batch of scanCompartments(db, context, { types: SCORED_TYPES, batchSize: options.batchSize, signal: options.signal })) {
    const patients = batch.map(scoredPatientOf);
    const results = evaluatePatients(patients, asOf);
    await db.transaction(async (tx) => {
      const stored = await storedSays(
        tx,
        patients.map((p) => p.facts.patientId),
        RULES_VERSION,
      );
      const { held, writes } = await storeResults(tx, context, patients, results, { stored });
      options.wrote(writes);
      await saveFacts(
        tx,
        patients.map((p) => ({ ...p, held: held.get(p.facts.patientId) ?? p.held })),
      );
      await options.progress(tx, batch.length);
    });
    options.onProgress();
  }
}

/**
 * Where the kept facts stand, when they can be used: the feed position of the latest finished run, provided the
 * latest run that built the facts finished, in the current format (every later change reached them through the
 * consumer, or reaches them now by catching it up from there). Undefined when a run must build them.
 */
async function factsKeptSince(db: Db): Promise<number | undefined> {
  if (!(await keptFactsCurrent(db))) return undefined;
  const latest = await lastRunFeedPosition(db);
  return latest === 'beginning' ? undefined : latest;
}

/** Where the latest finished run began reading, or 'beginning' before any. */
export async function lastRunFeedPosition(db: Db): Promise<number | 'beginning'> {
  const [run] = await db.query<{ feed_position: number | string }>(
    'SELECT feed_position FROM population_run WHERE finished_at IS NOT NULL AND feed_position IS NOT NULL ORDER BY finished_at DESC, id DESC LIMIT 1',
  );
  return run ? Number(run.feed_position) : 'beginning';
}
