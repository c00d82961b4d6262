/**
 * Scores kept current: follows the record's change feed (as the consumer `population`) and re-scores, as of
 * today, every patient whose record a change touched (the Patient or any entry the rules read), in the same
 * transaction that moves the consumer's position, so after a crash or a restart nothing is missed and nothing
 * is scored twice. Audited once when it starts, as a system operation (direct care, like a run).
 *
 * A consumer seen for the first time starts where the latest finished run began reading the record, or, before
 * any run, from the beginning of the feed (everyone with a record is then scored once as the feed is read; a run
 * is the faster way to score a whole population). One that is behind the latest finished run when it starts
 * moves on to where that run began reading: the run scored every change before it.
 */
import { followChanges, retrying, type RequestContext } from '../../fhir-store/index.ts';
import { registryToday } from '../../shared/dates.ts';
import type { Db } from '../../storage/db.ts';
import { consumerContext } from '../record/index.ts';
import { lastRunFeedPosition, POPULATION_CONSUMER, runPopulation } from './run-population.ts';
import { FOLLOWED_TYPES, rescoreChanges } from './score-patients.ts';

export { POPULATION_CONSUMER };

export interface KeepCurrentOptions {
  signal: AbortSignal;
  /** How long to wait when caught up (default 1,000 ms). */
  pollMs?: number;
  /** Today, as the registry counts days (England); a test may fix it. */
  today?: () => string;
  /**
   * A batch that cannot be scored rolls back (its changes stay unconsumed). Without this the promise rejects;
   * with it (a server) the error is reported and the batch tried again after `retryMs` (default 30 s): the
   * scores wait rather than skip a patient.
   */
  onError?: (error: unknown) => void;
  retryMs?: number;
  /**
   * Before following: when no run has finished yet, score everyone with one run as of today (a server's first
   * start on a freshly seeded demo: the dashboards need a run, and a run is the fast way to score a population).
   */
  runFirst?: boolean;
}

/** Follows the feed until the signal aborts. */
export async function keepPopulationCurrent(db: Db, options: KeepCurrentOptions): Promise<void> {
  const { onError, signal } = options;
  if (signal.aborted) return;
  if (options.runFirst && (await lastRunFeedPosition(db)) === 'beginning') {
    const asOf = (options.today ?? (() => registryToday()))();
    try {
      await runPopulation(db, { asOf, signal });
    } catch (error) {
      if (signal.aborted) return;
      if (!onError) throw error;
      // The feed, followed from the beginning, scores everyone instead (more slowly).
      onError(error);
    }
  }
  const context = await consumerContext(db, POPULATION_CONSUMER, {
    action: 'population.follow',
    summary: 'Population health: records re-scored as they change (direct care, proactive care)',
  });
  return retrying(() => followFeed(db, context, options), { signal, onError, retryMs: options.retryMs });
}

/**
 * Changes a batch at most. A batch re-scores each patient it touches once, however many of their entries changed:
 * under a burst of writes a larger batch scores a patient once for several changes (bench:fhir, PostgreSQL, 20
 * concurrent creates over 238 patients: the server's CPU a create 0.89-1.07 ms in batches of 500, 0.82-0.91 ms in
 * batches of 2,000). When caught up a batch holds what arrived within the poll, as before.
 */
const BATCH_SIZE = 2000;

async function followFeed(db: Db, context: RequestContext, options: KeepCurrentOptions): Promise<void> {
  const today = options.today ?? (() => registryToday());
  const lastRun = await lastRunFeedPosition(db);
  await followChanges(db, POPULATION_CONSUMER, rescoreChanges(context, today), {
    signal: options.signal,
    pollMs: options.pollMs,
    batchSize: BATCH_SIZE,
    types: FOLLOWED_TYPES,
    from: lastRun,
    // A run finished since this consumer last followed (e.g. `pcn population run` after a bulk import, while the
    // server was stopped) scored everyone from the record as it stood after that run's position: the follower
    // moves on to it rather than re-score, beside the requests it serves, every patient the run already scored.
    skipTo: lastRun === 'beginning' ? undefined : lastRun,
  });
}
