/**
 * Scores kept current: follows the record's change feed (as the consumer `population`) and re-scores, as of
 * today, every patient whose record a change touched (the Patient or any entry the rules read), in the same
 * transaction that moves the consumer's position, so after a crash or a restart nothing is missed and nothing
 * is scored twice. Audited once when it starts, as a system operation (direct care, like a run).
 *
 * A consumer seen for the first time starts from the beginning of the feed: everyone with a record is scored
 * once as the feed is read (a run is the faster way to score a whole population).
 */
import { followChanges, readCompartments } from '../../fhir-store/index.ts';
import { registryToday } from '../../shared/dates.ts';
import type { Db } from '../../storage/db.ts';
import { SYSTEM_ACTOR } from '../access/index.ts';
import { recordContext } from '../record/index.ts';
import { FACT_TYPES } from './facts-from-fhir.ts';
import { evaluateCompartments, SCORED_TYPES, storeResults } from './score-patients.ts';
import { removeResults } from './stored-results.ts';

export const POPULATION_CONSUMER = 'population';

export interface KeepCurrentOptions {
  signal: AbortSignal;
  /** How long to wait when caught up (default 1,000 ms). */
  pollMs?: number;
  /** Today, as the registry counts days (England); a test may fix it. */
  today?: () => string;
}

/** Follows the feed until the signal aborts; rejects if a batch cannot be scored (its changes stay unconsumed). */
export async function keepPopulationCurrent(db: Db, options: KeepCurrentOptions): Promise<void> {
  const today = options.today ?? (() => registryToday());
  const request = { method: 'FEED', url: `change feed consumer ${POPULATION_CONSUMER}` };
  const context = await recordContext(db, SYSTEM_ACTOR, { request, purpose: 'direct-care' });
  await context.audit.event(db, {
    action: 'population.follow',
    entityType: 'ChangeFeedConsumer',
    entityId: POPULATION_CONSUMER,
    summary: 'Population health: records re-scored as they change (direct care, proactive care)',
    detail: { purpose: 'direct-care' },
  });
  await followChanges(
    db,
    POPULATION_CONSUMER,
    async (changes, tx) => {
      const patientIds = [...new Set(changes.flatMap((c) => (c.patientId ? [c.patientId] : [])))];
      const compartments = await readCompartments(tx, context, patientIds, SCORED_TYPES);
      // A patient no longer in the store (deleted): their result goes with their record.
      const found = new Set(compartments.map((c) => c.patient.id));
      await removeResults(
        tx,
        patientIds.filter((id) => !found.has(id)),
      );
      await storeResults(tx, context, compartments, evaluateCompartments(compartments, today()));
    },
    { signal: options.signal, pollMs: options.pollMs, types: ['Patient', ...FACT_TYPES] },
  );
}
