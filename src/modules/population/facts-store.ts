/**
 * Each patient's facts kept beside the record (population_facts, migration 096): what the rules read of a record,
 * flattened from FHIR once when the record changes, so a run over a whole population reads one narrow row a
 * patient. Written by whoever reads a record whole for scoring (a run that builds them, the change follower) in
 * the transaction that scores it; read a page at a time by a run, with what each patient's stored result says.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Resource, RiskAssessment } from '@medplum/fhirtypes';
import { type Change, type PatientCompartment, readEntries, type RequestContext } from '../../fhir-store/index.ts';
import { jsonTexts, jsonTextsSql } from '../../shared/json.ts';
import type { Db } from '../../storage/db.ts';
import type { PatientFacts } from './facts.ts';
import type { KeptRow } from './score-kept.ts';
import { FACT_TYPES, factsFromFhir, withEntries } from './facts-from-fhir.ts';
import { assessmentSays, isPopulationAssessment } from './risk-assessment.ts';

/** A frailty RiskAssessment this module keeps in a patient's record, as the record holds it. */
export interface HeldAssessment {
  id: string;
  versionId: number;
  /** assessmentSays of it. */
  says: string;
  /** Its occurrence day. */
  on?: string;
}

/** A patient as the scoring reads them: their facts, and the assessments of ours their record holds. */
export interface ScoredPatient {
  facts: PatientFacts;
  held: HeldAssessment[];
}

/** The rows' own format here (what `held` holds): a change to it is a new number. */
const ROW_FORMAT = '1';

/**
 * The facts' format: a hash of the code that makes them, and the rows' format. When it changes, the next run builds
 * every patient's facts afresh from the record (population_run.facts_version).
 */
export const FACTS_VERSION = (() => {
  const hash = createHash('sha256').update(ROW_FORMAT);
  for (const file of ['./facts.ts', './facts-from-fhir.ts']) hash.update(readFileSync(new URL(file, import.meta.url)));
  return hash.digest('hex').slice(0, 12);
})();

/** The held assessments are exactly the one a result says (or none when it says none). */
export const holdsExactly = (held: readonly HeldAssessment[], id: string | null): boolean => (id === null ? held.length === 0 : held.length === 1 && held[0]!.id === id);

/** A patient's facts and held assessments from their record read whole. */
export function scoredPatientOf({ patient, resources }: PatientCompartment): ScoredPatient {
  return { facts: factsFromFhir(patient, resources), held: heldIn(resources) };
}

function heldIn(resources: PatientCompartment['resources']): HeldAssessment[] {
  return resources
    .filter((r): r is RiskAssessment & { id: string } => r.resourceType === 'RiskAssessment' && isPopulationAssessment(r))
    .map((r) => ({ id: r.id, versionId: Number(r.meta?.versionId ?? 0), says: assessmentSays(r), ...(r.occurrenceDateTime ? { on: r.occurrenceDateTime } : {}) }));
}

/** Stores (or replaces) these patients' facts and held assessments, in one statement. */
export async function saveFacts(tx: Db, patients: readonly ScoredPatient[]): Promise<void> {
  if (patients.length === 0) return;
  await tx.query(
    `INSERT INTO population_facts (patient_id, facts, held)
     SELECT * FROM unnest($1::text[], ${jsonTextsSql('$2')}, ${jsonTextsSql('$3')})
     ON CONFLICT (patient_id) DO UPDATE SET facts = excluded.facts, held = excluded.held`,
    [patients.map((p) => p.facts.patientId), jsonTexts(patients.map((p) => p.facts)), jsonTexts(patients.map((p) => p.held))],
  );
}

/** Replaces the held assessments of these patients (a run that wrote or removed theirs). */
export async function saveHeld(tx: Db, held: ReadonlyMap<string, HeldAssessment[]>): Promise<void> {
  if (held.size === 0) return;
  await tx.query(`UPDATE population_facts f SET held = h.held FROM unnest($1::text[], ${jsonTextsSql('$2')}) AS h(patient_id, held) WHERE f.patient_id = h.patient_id`, [
    [...held.keys()],
    jsonTexts([...held.values()]),
  ]);
}

/** Forgets these patients' facts (their record is gone). */
export async function removeFacts(tx: Db, patientIds: readonly string[]): Promise<void> {
  if (patientIds.length > 0) await tx.query('DELETE FROM population_facts WHERE patient_id = ANY($1::text[])', [patientIds]);
}

/** How many patients have facts kept. */
export async function countKeptFacts(db: Db): Promise<number> {
  const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM population_facts');
  return row?.n ?? 0;
}

/** Forgets every patient's facts: a run is about to build them afresh. */
export async function clearFacts(tx: Db): Promise<void> {
  await tx.query('DELETE FROM population_facts');
}

/**
 * The patients whose scores these changes may alter: the record of each patient an entry or Patient change names,
 * and, for changes to RiskAssessments, only where one of ours is no longer as this module left it (edited or
 * removed by someone else since) or one it does not hold appeared — never for the versions it wrote itself.
 */
export async function patientsChangedBy(tx: Db, changes: readonly Change[]): Promise<string[]> {
  const patients = new Set<string>();
  // Of each RiskAssessment, its latest change here (an earlier one is superseded by it).
  const latest = new Map<string, Change>();
  for (const change of changes) {
    if (!change.patientId) continue;
    if (change.resourceType === 'RiskAssessment') latest.set(change.id, change);
    else patients.add(change.patientId);
  }
  const assessments = [...latest.values()];
  const unsure = [...new Set(assessments.map((c) => c.patientId!).filter((id) => !patients.has(id)))];
  if (unsure.length === 0) return [...patients];
  const heldBy = await heldAssessments(tx, unsure);
  for (const change of assessments) if (!ours(heldBy.get(change.patientId!), change)) patients.add(change.patientId!);
  return [...patients];
}

async function heldAssessments(tx: Db, patientIds: readonly string[]): Promise<Map<string, HeldAssessment[]>> {
  const rows = await tx.query<{ patient_id: string; held: string }>('SELECT patient_id, held FROM population_facts WHERE patient_id = ANY($1::text[])', [patientIds]);
  return new Map(rows.map((r) => [r.patient_id, JSON.parse(r.held) as HeldAssessment[]]));
}

/** A change to a RiskAssessment of ours: a version this module wrote, or one it has since written over; a removal of one it no longer holds. */
function ours(held: readonly HeldAssessment[] | undefined, change: Change): boolean {
  const assessment = held?.find((h) => h.id === change.id);
  return assessment ? assessment.versionId >= change.versionId : change.kind === 'delete' || change.kind === 'expunge';
}

/**
 * The facts kept are those of the code that runs: the latest run that set out to build them finished, in this
 * format (every later change reached them through the change follower).
 */
export async function keptFactsCurrent(db: Db): Promise<boolean> {
  // The latest run that set out to build them (finished or not: one that stopped half way left them half built).
  const [build] = await db.query<{ facts_version: string; finished: boolean }>(
    'SELECT facts_version, finished_at IS NOT NULL AS finished FROM population_run WHERE facts_version IS NOT NULL ORDER BY id DESC LIMIT 1',
  );
  return build?.finished === true && build.facts_version === FACTS_VERSION;
}

/**
 * The patients among `patientIds` whose only changes here are new entries of the types the rules read, scored
 * from their facts kept with those entries added (read by id as they stand now): what reading each record whole
 * would give, at the cost of the new entries only. A patient with any other change (an edit, a removal, the
 * Patient itself, a RiskAssessment not ours), or without current facts kept, is left to be read whole.
 */
export async function patchedWithNewEntries(tx: Db, context: RequestContext, changes: readonly Change[], patientIds: readonly string[]): Promise<Map<string, ScoredPatient>> {
  const patched = new Map<string, ScoredPatient>();
  const created = new Map<string, Change[]>();
  const other = new Map<string, Change[]>();
  for (const change of changes) {
    if (!change.patientId) continue;
    const newEntry = change.kind === 'create' && change.versionId === 1 && (FACT_TYPES as readonly string[]).includes(change.resourceType);
    const into = newEntry ? created : other;
    const theirs = into.get(change.patientId);
    if (theirs) theirs.push(change);
    else into.set(change.patientId, [change]);
  }
  const candidates = patientIds.filter((id) => created.has(id) && (other.get(id) ?? []).every((c) => c.resourceType === 'RiskAssessment'));
  if (candidates.length === 0 || !(await keptFactsCurrent(tx))) return patched;
  const rows = await tx.query<{ patient_id: string; facts: string; held: string }>('SELECT patient_id, facts, held FROM population_facts WHERE patient_id = ANY($1::text[])', [candidates]);
  const kept = rows
    .map((r) => ({ patientId: r.patient_id, facts: JSON.parse(r.facts) as PatientFacts, held: JSON.parse(r.held) as HeldAssessment[] }))
    .filter((k) => (other.get(k.patientId) ?? []).every((change) => ours(k.held, change)));
  const current = await readEntries(
    tx,
    context,
    kept.flatMap((k) => created.get(k.patientId)!),
  );
  // Each new entry as it stands now, under the patient whose record holds it now (one moved since is not theirs).
  const now = new Map<string, Resource[]>();
  for (const { patientId, resource } of current) {
    if (!patientId) continue;
    const theirs = now.get(patientId);
    if (theirs) theirs.push(resource);
    else now.set(patientId, [resource]);
  }
  for (const { patientId, facts, held } of kept) {
    const named = new Set(created.get(patientId)!.map((c) => `${c.resourceType}/${c.id}`));
    const entries = (now.get(patientId) ?? []).filter((r) => named.has(`${r.resourceType}/${r.id}`));
    patched.set(patientId, { facts: withEntries(facts, named, entries), held });
  }
  return patched;
}

/**
 * Every patient's kept facts in patient id order, as read (score-kept.ts parses them), with what each stored result
 * under `rulesVersion` says, a page at a time (keyset: a page costs the same at the end as at the start); the next
 * page is read while the caller works on this one.
 */
export async function* readKeptRows(db: Db, rulesVersion: string, options: { batchSize: number; signal?: AbortSignal }): AsyncGenerator<KeptRow[]> {
  let next: Promise<KeptRow[]> | undefined = keptPage(db, rulesVersion, '', options.batchSize);
  while (next) {
    const page: KeptRow[] = await next;
    options.signal?.throwIfAborted();
    next = page.length === options.batchSize ? keptPage(db, rulesVersion, page.at(-1)!.patient_id, options.batchSize) : undefined;
    next?.catch(() => undefined);
    if (page.length > 0) yield page;
  }
}

async function keptPage(db: Db, rulesVersion: string, after: string, limit: number): Promise<KeptRow[]> {
  return db.query<KeptRow>(
    // `r.patient_id > $1` too: the merge join's scan of the results then starts at the page, not at the first patient
    // (without it each page read every result before it: 1.1 s a page at 900,000 patients, 4 ms with it).
    `SELECT f.patient_id, f.facts, f.held, r.says, to_char(r.as_of, 'YYYY-MM-DD') AS as_of
       FROM population_facts f LEFT JOIN population_result r ON r.patient_id = f.patient_id AND r.rules_version = $2 AND r.patient_id > $1
      WHERE f.patient_id > $1 ORDER BY f.patient_id LIMIT $3`,
    [after, rulesVersion, limit],
  );
}

/** What the stored results of these patients under `rulesVersion` say, and their day (a run building the facts). */
export async function storedSays(tx: Db, patientIds: readonly string[], rulesVersion: string): Promise<Map<string, { says: string; asOf: string }>> {
  const rows = await tx.query<{ patient_id: string; says: string; as_of: string }>(
    "SELECT patient_id, says, to_char(as_of, 'YYYY-MM-DD') AS as_of FROM population_result WHERE patient_id = ANY($1::text[]) AND rules_version = $2 AND says IS NOT NULL",
    [patientIds, rulesVersion],
  );
  return new Map(rows.map((r) => [r.patient_id, { says: r.says, asOf: r.as_of }]));
}
