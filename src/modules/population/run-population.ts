/**
 * `pcn population run`: every patient scored as of one day, a batch at a time, each batch's results (and the
 * RiskAssessments that follow them) committed together. It reads every record as the system, for direct
 * care (proactive care of the network's own patients, so the national data opt-out does not apply; dissent
 * from sharing limits who SEES a record, not the practice's care of its patients), and is audited as ONE
 * system operation: the run, its day and its rule set, not a look per patient.
 */
import { countPatients, scanCompartments, settledFeedPosition } from '../../fhir-store/index.ts';
import type { Db } from '../../storage/db.ts';
import { systemContext } from '../record/index.ts';
import { parseAsOf } from './as-of.ts';
import { snapshotDashboardMonth } from './dashboard-data.ts';
import { RULES_VERSION } from './rules-version.ts';
import { evaluateCompartments, SCORED_TYPES, storeResults } from './score-patients.ts';

export interface PopulationRunOptions {
  /** `YYYY-MM-DD`. */
  asOf: string;
  /** Patients per batch (default 1,000). */
  batchSize?: number;
  /** Patients scored so far, of about how many. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface PopulationRun {
  runId: number;
  asOf: string;
  rulesVersion: string;
  patients: number;
}

export async function runPopulation(db: Db, options: PopulationRunOptions): Promise<PopulationRun> {
  const asOf = parseAsOf(options.asOf);
  const command = `pcn population run --as-of ${asOf}`;
  const context = await systemContext(db, command, 'direct-care');
  const runId = await db.transaction(async (tx) => {
    const [run] = await tx.query<{ id: number }>('INSERT INTO population_run (as_of, rules_version) VALUES ($1, $2) RETURNING id', [asOf, RULES_VERSION]);
    await context.audit.event(tx, {
      action: 'population.run',
      entityType: 'PopulationRun',
      entityId: String(run!.id),
      summary: `Population health: every patient's record read and scored as of ${asOf} (rules ${RULES_VERSION}), direct care (proactive care)`,
      detail: { asOf, rulesVersion: RULES_VERSION, purpose: 'direct-care' },
    });
    return run!.id;
  });
  // Every change up to here is in what the scan reads: a follower starting afresh after this run begins here.
  await db.query('UPDATE population_run SET feed_position = $2 WHERE id = $1', [runId, await settledFeedPosition(db, options.signal)]);
  const total = await countPatients(db);
  let done = 0;
  for await (const batch of scanCompartments(db, context, { types: SCORED_TYPES, batchSize: options.batchSize, signal: options.signal })) {
    const results = evaluateCompartments(batch, asOf);
    await db.transaction(async (tx) => {
      await storeResults(tx, context, batch, results);
      await tx.query('UPDATE population_run SET patients = patients + $2 WHERE id = $1', [runId, batch.length]);
    });
    done += batch.length;
    options.onProgress?.(done, Math.max(total, done));
  }
  // The month's point of the dashboards' trend, from the results as this run leaves them.
  await snapshotDashboardMonth(db, runId, asOf);
  await db.query('UPDATE population_run SET finished_at = now() WHERE id = $1', [runId]);
  return { runId, asOf, rulesVersion: RULES_VERSION, patients: done };
}
