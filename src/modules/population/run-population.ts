/**
 * `pcn population run`: every patient scored as of one day, a batch at a time, each batch's results (and the
 * RiskAssessments that follow them) committed together. It reads every record as the system, for direct
 * care (proactive care of the network's own patients, so the national data opt-out does not apply; dissent
 * from sharing limits who SEES a record, not the practice's care of its patients), and is audited as ONE
 * system operation: the run, its day and its rule set, not a look per patient.
 */
import { catchUpChanges, countPatients, type RequestContext, scanCompartments, settledFeedPosition } from '../../fhir-store/index.ts';
import type { Db } from '../../storage/db.ts';
import { systemContext } from '../record/index.ts';
import { parseAsOf } from './as-of.ts';
import { snapshotDashboardMonth } from './dashboard-data.ts';
import { clearFacts, FACTS_VERSION, readKeptRows, saveFacts, saveHeld, scoredPatientOf, storedSays } from './facts-store.ts';
import { scorePages, scoringThreads } from './score-kept.ts';
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
  const total = await countPatients(db);
  let done = 0;
  const progress = async (tx: Db, patients: number) => {
    await tx.query('UPDATE population_run SET patients = patients + $2 WHERE id = $1', [runId, patients]);
    done += patients;
  };
  if (kept === undefined) {
    await buildAndScore(db, context, asOf, { batchSize, signal: options.signal, progress, onProgress: () => options.onProgress?.(done, Math.max(total, done)) });
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
    for await (const work of scorePages(pages, asOf, options.threads ?? scoringThreads(total))) {
      await db.transaction(async (tx) => {
        const held = await storeResults(
          tx,
          context,
          work.todo,
          work.todo.map((t) => t.result),
          { stored: new Map(work.stored) },
        );
        await saveHeld(tx, held);
        await progress(tx, work.patients);
      });
      options.onProgress?.(done, Math.max(total, done));
    }
  }
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
  options: { batchSize: number; signal?: AbortSignal; progress: (tx: Db, patients: number) => Promise<void>; onProgress: () => void },
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
      const held = await storeResults(tx, context, patients, results, { stored });
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
  // The latest run that set out to build them (finished or not: one that stopped half way left them half built).
  const [build] = await db.query<{ facts_version: string; finished: boolean }>(
    'SELECT facts_version, finished_at IS NOT NULL AS finished FROM population_run WHERE facts_version IS NOT NULL ORDER BY id DESC LIMIT 1',
  );
  if (!build?.finished || build.facts_version !== FACTS_VERSION) return undefined;
  const [latest] = await db.query<{ feed_position: number | string }>(
    'SELECT feed_position FROM population_run WHERE finished_at IS NOT NULL AND feed_position IS NOT NULL ORDER BY finished_at DESC, id DESC LIMIT 1',
  );
  return latest ? Number(latest.feed_position) : undefined;
}
