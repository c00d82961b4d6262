/**
 * The chain changed how it serialises a record for its hash (migration 068): links sealed before keep
 * their form and still verify, beside links sealed after, and an edit is caught in either. The form-1
 * links here are made by this test's own reading of the old rule (canonical JSON of the columns, keys
 * sorted), not by the code under test.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, test } from 'node:test';
import { testDb, testEngine } from '../../../test/db.ts';
import { recordAudit, verifyAudit } from './index.ts';

const db = await testDb();
after(() => db.close());

const canonical = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
};

async function tamper(sql: string, params: unknown[]) {
  await db.exec('ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only');
  try {
    await db.query(sql, params);
  } finally {
    await db.exec('ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only');
  }
}

test(`links sealed the old way verify beside links sealed the new way; an edit is named in either (${testEngine})`, async () => {
  const entry = (n: number) => ({
    actor: `user${n}@pcn-hub.example`,
    action: 'fhir.read',
    entityType: 'Patient',
    entityId: `p${n}`,
    summary: `read Patient/p${n} — “quoted” é`,
    detail: { zeta: n, alpha: { b: [1, 'two'], a: null }, request: `GET /fhir/Patient/p${n}` },
    patientIds: [`p${n}`],
  });
  for (const n of [1, 2, 3]) await recordAudit(db, entry(n));

  // Seal the first three as the sealer did before migration 068.
  const old = await db.query<Record<string, unknown> & { id: string }>(
    `SELECT e.id::text AS id, to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, e.actor, e.action, e.entity_type, e.entity_id, e.pcn_code,
            e.summary, e.detail, e.request_id, e.org_code, e.role, e.client_id, e.outcome, e.purpose, e.break_glass_reason, e.patient_ids
       FROM audit_event e ORDER BY e.id`,
  );
  let hash = '0'.repeat(64);
  let seq = 0;
  for (const r of old) {
    const content = canonical([
      r.id,
      r.at,
      r.actor,
      r.action,
      r.entity_type,
      r.entity_id,
      r.pcn_code,
      r.summary,
      r.detail,
      r.request_id,
      r.org_code,
      r.role,
      r.client_id,
      r.outcome,
      r.purpose,
      r.break_glass_reason,
      r.patient_ids,
    ]);
    const next = createHash('sha256').update(`${hash}\n${++seq}\n${content}`).digest('hex');
    await db.query('INSERT INTO audit_chain (seq, event_id, prev_hash, hash) VALUES ($1, $2, $3, $4)', [seq, r.id, hash, next]);
    hash = next;
  }
  await db.query('UPDATE audit_chain_head SET seq = $1, hash = $2, settled_id = $3', [seq, hash, old.at(-1)!.id]);

  for (const n of [4, 5]) await recordAudit(db, entry(n));
  const result = await verifyAudit(db); // seals 4 and 5 the new way first
  assert.equal(result.ok, true, result.problem);
  assert.equal(result.checked, 5);
  const forms = await db.query<{ form: number }>('SELECT form FROM audit_chain ORDER BY seq');
  assert.deepEqual(
    forms.map((f) => Number(f.form)),
    [1, 1, 1, 2, 2],
  );

  for (const n of [2, 5]) {
    const [{ id }] = (await db.query<{ id: string }>('SELECT id::text AS id FROM audit_event WHERE entity_id = $1', [`p${n}`])) as [{ id: string }];
    await tamper(`UPDATE audit_event SET detail = jsonb_set(detail, '{zeta}', '99') WHERE id = $1`, [id]);
    const edited = await verifyAudit(db);
    assert.equal(edited.ok, false);
    assert.match(edited.problem!, new RegExp(`^audit record #${n} \\(event ${id}, .*\\) has been edited or moved`));
    await tamper(`UPDATE audit_event SET detail = jsonb_set(detail, '{zeta}', $2::jsonb) WHERE id = $1`, [id, String(n)]);
    assert.equal((await verifyAudit(db)).ok, true, 'put back, it verifies again');
  }
});
