/**
 * Moves as the registry keeps them (issue 13): a move dated after today is scheduled and takes effect on its
 * date without anyone acting (reads take `?asOf=`, so no test waits for midnight); a scheduled move, or one
 * made today, is corrected or cancelled by rewriting its rows; the nominated payee never leaves a PCN without
 * a new one; and every refusal is a sentence a person can act on, naming the field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiSuite } from '../../../test/api.ts';
import { addDays, registryToday } from '../../shared/dates.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYSTEM_ACTOR } from '../../modules/access/index.ts';
import { getPcn, loadRegistry, readRegistryDir, registryAsFhir, saveRegistry, writeRegistryDir } from '../../modules/network/index.ts';
import { testDb, testEngine } from '../../../test/db.ts';

const h = apiSuite();

const today = registryToday();
const tomorrow = addDays(today, 1);

const get = (url: string) => h.app.inject({ method: 'GET', url, headers: { authorization: h.admin } });
const send = (method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
  h.app.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }), headers: { authorization: h.admin } });

interface Practice {
  pcn: { code: string } | null;
  history: Array<{ pcnCode: string; startDate: string; endDate: string | null }>;
  move: { from: { code: string } | null; to: { code: string }; date: string; scheduled: boolean; newPayee: { ods: string } | null } | null;
}
interface PcnDetail {
  listSize: number;
  nominatedPayee: { ods: string } | null;
  practices: Array<{ ods: string; listSize: number }>;
  joining: Array<{ ods: string; date: string; fromPcn: { code: string } | null }>;
  leaving: Array<{ ods: string; date: string; toPcn: { code: string } }>;
  changes: Array<{ actor: string; action: string; summary: string }>;
}
interface ApiError {
  error: { code: string; message: string; field?: string };
}

const pcn = async (code: string, asOf?: string) => (await get(`/api/pcns/${code}${asOf ? `?asOf=${asOf}` : ''}`)).json<PcnDetail>();
const practice = async (ods: string, asOf?: string) => (await get(`/api/practices/${ods}${asOf ? `?asOf=${asOf}` : ''}`)).json<Practice>();
const sizes = async (asOf?: string) =>
  new Map((await get(`/api/pcns?area=Q99${asOf ? `&asOf=${asOf}` : ''}`)).json<{ items: Array<{ code: string; listSize: number }> }>().items.map((p) => [p.code, p.listSize]));
const history = (p: Practice) => p.history.map((m) => [m.pcnCode, m.startDate, m.endDate]);
/** A member practice of the PCN that is not its nominated payee. */
const notPayee = async (code: string) => {
  const detail = await pcn(code);
  return detail.practices.find((p) => p.ods !== detail.nominatedPayee?.ods)!;
};

test(`a move dated after today is scheduled: lists, sizes, the map and FHIR keep it where it is until its date (${testEngine})`, async () => {
  const moving = await notPayee('U90005');
  const [sizesBefore, joinedBefore] = [await sizes(), practice(moving.ods)];
  const moved = await send('PATCH', `/api/practices/${moving.ods}`, { pcnCode: 'U90006', date: tomorrow });
  assert.equal(moved.statusCode, 200, moved.body);
  const answer = moved.json<Practice>();
  assert.equal(answer.pcn?.code, 'U90005', 'still in its PCN today');
  assert.deepEqual([answer.move?.to.code, answer.move?.date, answer.move?.scheduled], ['U90006', tomorrow, true]);
  assert.deepEqual(history(answer).slice(0, 2), [
    ['U90006', tomorrow, null],
    ['U90005', (await joinedBefore).history[0]!.startDate, today],
  ]);

  // Today: nothing has moved yet, anywhere.
  assert.deepEqual(await sizes(), sizesBefore);
  const from = await pcn('U90005');
  assert.ok(from.practices.some((p) => p.ods === moving.ods));
  assert.deepEqual(
    from.leaving.map((p) => [p.ods, p.date, p.toPcn.code]),
    [[moving.ods, tomorrow, 'U90006']],
  );
  const to = await pcn('U90006');
  assert.ok(!to.practices.some((p) => p.ods === moving.ods));
  assert.deepEqual(
    to.joining.map((p) => [p.ods, p.date, p.fromPcn?.code]),
    [[moving.ods, tomorrow, 'U90005']],
  );
  const mapPcn = async (asOf?: string) => {
    const map = (await get(`/api/areas/Q99/map${asOf ? `?asOf=${asOf}` : ''}`)).json<{ features: Array<{ properties: { kind: string; ods?: string; pcnCode?: string } }> }>();
    return map.features.find((f) => f.properties.kind === 'practice' && f.properties.ods === moving.ods)?.properties.pcnCode;
  };
  assert.equal(await mapPcn(), 'U90005');
  // Someone working at the practice still belongs to its PCN today (the database's view of "in effect").
  await h.addUser({ email: 'reception@moving.example', name: 'Rae Ception', role: 'practice-manager', org: moving.ods });
  const me = await h.app.inject({ method: 'POST', url: '/api/login', payload: { email: 'reception@moving.example', password: 'correct horse battery staple' } });
  assert.equal(me.json<{ user: { pcnCode: string } }>().user.pcnCode, 'U90005', 'their PCN is the one in effect');
  const affiliation = (asOf: string, snapshot: Awaited<ReturnType<typeof loadRegistry>>, code: string) =>
    registryAsFhir(snapshot, asOf).find((r) => r.resourceType === 'OrganizationAffiliation' && r.id?.startsWith(`membership-${moving.ods}-${code}`)) as { active?: boolean } | undefined;
  const snapshot = await loadRegistry(h.db);
  assert.deepEqual([affiliation(today, snapshot, 'U90005')?.active, affiliation(today, snapshot, 'U90006')?.active], [true, false]);

  // On its date it is in the new PCN, with nobody acting.
  assert.equal((await practice(moving.ods, tomorrow)).pcn?.code, 'U90006');
  const sizesThen = await sizes(tomorrow);
  assert.equal(sizesThen.get('U90005'), sizesBefore.get('U90005')! - moving.listSize);
  assert.equal(sizesThen.get('U90006'), sizesBefore.get('U90006')! + moving.listSize);
  assert.ok((await pcn('U90006', tomorrow)).practices.some((p) => p.ods === moving.ods));
  assert.deepEqual((await pcn('U90006', tomorrow)).joining, []);
  assert.equal(await mapPcn(tomorrow), 'U90006');
  assert.deepEqual([affiliation(tomorrow, snapshot, 'U90005')?.active, affiliation(tomorrow, snapshot, 'U90006')?.active], [false, true]);

  // While it is scheduled, another move is refused: the scheduled one is changed or cancelled instead.
  const again = await send('PATCH', `/api/practices/${moving.ods}`, { pcnCode: 'U90007' });
  assert.equal(again.statusCode, 409, again.body);
  assert.match(again.json<ApiError>().error.message, /is already moving to .* change or cancel that move/);
});

test('a scheduled move is corrected (date, target) and cancelled, audited, leaving no membership it never had', async () => {
  const moving = await notPayee('U90007');
  const joined = (await practice(moving.ods)).history[0]!;
  const [first, second] = [addDays(today, 30), addDays(today, 60)];
  assert.equal((await send('PATCH', `/api/practices/${moving.ods}`, { pcnCode: 'U90008', date: first })).statusCode, 200);

  // What the correction would change, worked out on the move taken back; nothing is written.
  const [stays, target] = [await pcn('U90007'), await pcn('U90009')];
  const preview = (await get(`/api/practices/${moving.ods}/move/preview?pcnCode=U90009&date=${second}`)).json<{
    date: string;
    leaves: { code: string; listSize: { before: number; after: number } };
    joins: { code: string; listSize: { before: number; after: number } };
  }>();
  assert.deepEqual([preview.date, preview.leaves.code, preview.joins.code], [second, 'U90007', 'U90009']);
  assert.deepEqual(preview.leaves.listSize, { before: stays.listSize, after: stays.listSize - moving.listSize });
  assert.deepEqual(preview.joins.listSize, { before: target.listSize, after: target.listSize + moving.listSize });
  assert.equal((await get(`/api/practices/${moving.ods}/move`)).json<{ to: { code: string } }>().to.code, 'U90008', 'a preview changes nothing');

  const corrected = await send('PATCH', `/api/practices/${moving.ods}/move`, { pcnCode: 'U90009', date: second });
  assert.equal(corrected.statusCode, 200, corrected.body);
  assert.deepEqual(history(corrected.json<Practice>()), [
    ['U90009', second, null],
    ['U90007', joined.startDate, addDays(second, -1)],
  ]);
  assert.deepEqual((await pcn('U90008')).joining, [], 'the first target no longer expects it');
  assert.deepEqual(
    (await pcn('U90009')).joining.map((p) => [p.ods, p.date]),
    [[moving.ods, second]],
  );
  assert.equal((await get(`/api/practices/${moving.ods}/move`)).json<{ to: { code: string } }>().to.code, 'U90009');

  const cancelled = await send('DELETE', `/api/practices/${moving.ods}/move`);
  assert.equal(cancelled.statusCode, 200, cancelled.body);
  const after = cancelled.json<Practice>();
  assert.deepEqual(history(after), [['U90007', joined.startDate, null]], 'as it was before the move');
  assert.equal(after.move, null);
  assert.equal((await get(`/api/practices/${moving.ods}/move`)).statusCode, 404);
  assert.equal((await send('DELETE', `/api/practices/${moving.ods}/move`)).statusCode, 404);

  const actions = (await pcn('U90007')).changes.filter((c) => c.summary.includes(moving.ods)).map((c) => [c.actor, c.action]);
  assert.deepEqual(actions, [
    ['admin@pcn-hub.example', 'practice.move.cancel'],
    ['admin@pcn-hub.example', 'practice.move.correct'],
    ['admin@pcn-hub.example', 'practice.move'],
  ]);
});

test('a move made today is corrected the same day without a false one-day membership; an older move cannot be', async () => {
  const moving = await notPayee('U90011');
  const joined = (await practice(moving.ods)).history[0]!;
  assert.equal((await send('PATCH', `/api/practices/${moving.ods}`, { pcnCode: 'U90012' })).statusCode, 200);
  assert.equal((await practice(moving.ods)).pcn?.code, 'U90012');
  // A second move today would end U90012 after a day (or none): refused, pointing at the correction.
  const twice = await send('PATCH', `/api/practices/${moving.ods}`, { pcnCode: 'U90013' });
  assert.equal(twice.statusCode, 422);
  assert.equal(twice.json<ApiError>().error.field, 'date');

  const corrected = await send('PATCH', `/api/practices/${moving.ods}/move`, { pcnCode: 'U90013' });
  assert.equal(corrected.statusCode, 200, corrected.body);
  const now = corrected.json<Practice>();
  assert.equal(now.pcn?.code, 'U90013');
  assert.deepEqual(history(now), [
    ['U90013', today, null],
    ['U90011', joined.startDate, addDays(today, -1)],
  ]);
  assert.ok(!(await pcn('U90012')).practices.some((p) => p.ods === moving.ods));
  assert.ok(!now.history.some((m) => m.pcnCode === 'U90012'), 'no membership of U90012 at all');

  const undone = await send('DELETE', `/api/practices/${moving.ods}/move`);
  assert.deepEqual(history(undone.json<Practice>()), [['U90011', joined.startDate, null]]);

  // A move recorded on another day (the demo's moves were seeded) is history: it cannot be rewritten.
  const [seededMove] = await h.db.query<{ ods: string }>('SELECT practice_ods AS ods FROM practice_membership WHERE end_date IS NOT NULL AND moved_at IS NULL LIMIT 1');
  assert.ok(seededMove);
  assert.equal((await get(`/api/practices/${seededMove.ods}/move`)).statusCode, 404);
  assert.equal((await send('PATCH', `/api/practices/${seededMove.ods}/move`, { date: today })).statusCode, 404);
});

test('moving the nominated payee needs the new payee in the same step; the PCN is never without one', async () => {
  const before = await pcn('U90014');
  const payee = before.nominatedPayee!.ods;
  const staying = before.practices.find((p) => p.ods !== payee)!.ods;

  const untouched = history(await practice(payee));
  const refused = await send('PATCH', `/api/practices/${payee}`, { pcnCode: 'U90015', date: tomorrow });
  assert.equal(refused.statusCode, 409, refused.body);
  assert.equal(refused.json<ApiError>().error.field, 'newPayeeOds');
  assert.match(refused.json<ApiError>().error.message, /is the nominated payee of .*: choose the practice that will be its nominated payee from/);
  assert.deepEqual(history(await practice(payee)), untouched, 'nothing written');
  assert.equal((await practice(payee)).move, null);

  const elsewhere = (await pcn('U90015')).practices[0]!.ods;
  const wrongPayee = await send('PATCH', `/api/practices/${payee}`, { pcnCode: 'U90015', date: tomorrow, newPayeeOds: elsewhere });
  assert.equal(wrongPayee.statusCode, 422);
  assert.equal(wrongPayee.json<ApiError>().error.field, 'newPayeeOds');
  const notNeeded = await send('PATCH', `/api/practices/${staying}`, { pcnCode: 'U90015', date: tomorrow, newPayeeOds: payee });
  assert.equal(notNeeded.statusCode, 422, 'a practice that is not the payee names no new payee');

  const preview = (await get(`/api/practices/${payee}/move-preview?pcnCode=U90015&date=${tomorrow}`)).json<{ payeeNeeded: boolean; payeeChoices: Array<{ ods: string }> }>();
  assert.equal(preview.payeeNeeded, true);
  assert.ok(preview.payeeChoices.some((p) => p.ods === staying) && !preview.payeeChoices.some((p) => p.ods === payee));

  const moved = await send('PATCH', `/api/practices/${payee}`, { pcnCode: 'U90015', date: tomorrow, newPayeeOds: staying });
  assert.equal(moved.statusCode, 200, moved.body);
  assert.equal(moved.json<Practice>().move?.newPayee?.ods, staying);
  assert.equal((await pcn('U90014')).nominatedPayee?.ods, payee, 'the payee until it leaves');
  assert.equal((await pcn('U90014', tomorrow)).nominatedPayee?.ods, staying, 'its successor from the day it leaves');
  // The successor is set: a payee that is leaving cannot be chosen again meanwhile.
  const leavingPayee = await send('PATCH', '/api/pcns/U90014', { nominatedPayeeOds: payee });
  assert.equal(leavingPayee.statusCode, 422);
  assert.match(leavingPayee.json<ApiError>().error.message, /leaves this PCN on .*choose a practice that is staying/);

  // Moving the date keeps the successor with it; cancelling restores the payee that stays.
  const later = addDays(today, 5);
  assert.equal((await send('PATCH', `/api/practices/${payee}/move`, { date: later })).statusCode, 200);
  assert.equal((await pcn('U90014', tomorrow)).nominatedPayee?.ods, payee);
  assert.equal((await pcn('U90014', later)).nominatedPayee?.ods, staying);
  // The successor cannot leave before it takes over: the PCN would be left with a payee it no longer has.
  const successorLeaves = await send('PATCH', `/api/practices/${staying}`, { pcnCode: 'U90015', date: tomorrow });
  assert.equal(successorLeaves.statusCode, 409, successorLeaves.body);
  assert.match(successorLeaves.json<ApiError>().error.message, /is to become the nominated payee of .* choose another practice for that first/);
  assert.equal((await send('DELETE', `/api/practices/${payee}/move`)).statusCode, 200);
  assert.equal((await pcn('U90014', later)).nominatedPayee?.ods, payee);

  // Today: the successor is the payee at once, and the PCN's export says so.
  assert.equal((await send('PATCH', `/api/practices/${payee}`, { pcnCode: 'U90015', newPayeeOds: staying })).statusCode, 200);
  assert.equal((await pcn('U90014')).nominatedPayee?.ods, staying);
  const snapshot = await loadRegistry(h.db);
  assert.ok(
    snapshot.pcns.find((p) => p.code === 'U90014'),
    'still a PCN',
  );
});

test('a scheduled move and its payee handover survive export → import', async () => {
  const detail = await pcn('U90018');
  const payee = detail.nominatedPayee!.ods;
  const staying = detail.practices.find((p) => p.ods !== payee)!.ods;
  assert.equal((await send('PATCH', `/api/practices/${payee}`, { pcnCode: 'U90019', date: tomorrow, newPayeeOds: staying })).statusCode, 200);
  const dir = await mkdtemp(join(tmpdir(), 'registry-moves-'));
  const copy = await testDb();
  try {
    await writeRegistryDir(h.db, dir);
    await saveRegistry(copy, SYSTEM_ACTOR, await readRegistryDir(copy, dir));
    const [now, then] = [await getPcn(copy, 'U90018', today), await getPcn(copy, 'U90018', tomorrow)];
    assert.equal(now.nominatedPayee?.ods, payee);
    assert.ok(
      now.practices.some((p) => p.ods === payee),
      'still a member today',
    );
    assert.equal(then.nominatedPayee?.ods, staying, 'its successor takes over on the day');
    assert.ok(!then.practices.some((p) => p.ods === payee));
  } finally {
    await copy.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("a PCN manager changes or cancels a move out of their own PCN, not another's", async () => {
  const moving = await notPayee('U90020');
  assert.equal((await send('PATCH', `/api/practices/${moving.ods}`, { pcnCode: 'U90001', date: tomorrow })).statusCode, 200);
  const own = await h.addUser({ email: 'manager@u90020.example', name: 'Own Manager', role: 'pcn-manager', org: 'U90020' });
  const other = await h.addUser({ email: 'manager@u90003.example', name: 'Other Manager', role: 'pcn-manager', org: 'U90003' });
  const as = (auth: string, method: 'PATCH' | 'DELETE', payload?: object) =>
    h.app.inject({ method, url: `/api/practices/${moving.ods}/move`, headers: { authorization: auth }, ...(payload ? { payload } : {}) });
  assert.equal((await as(other, 'DELETE')).statusCode, 403);
  assert.equal((await as(other, 'PATCH', { date: addDays(today, 2) })).statusCode, 403);
  assert.equal((await practice(moving.ods)).move?.date, tomorrow, 'refused: nothing changed');
  assert.equal((await as(own, 'PATCH', { date: addDays(today, 2) })).statusCode, 200);
  assert.equal((await as(own, 'DELETE')).statusCode, 200);
  assert.equal((await practice(moving.ods)).move, null);
});

test('what a move would change is shown before it is made, and nothing is written', async () => {
  const moving = await notPayee('U90016');
  const [from, to] = [await pcn('U90016'), await pcn('U90017')];
  const response = await get(`/api/practices/${moving.ods}/move-preview?pcnCode=U90017&date=${tomorrow}`);
  assert.equal(response.statusCode, 200, response.body);
  const preview = response.json<{
    scheduled: boolean;
    leaves: { code: string; listSize: { before: number; after: number }; sizeStatus: { after: string } };
    joins: { code: string; listSize: { before: number; after: number } };
    payeeNeeded: boolean;
  }>();
  assert.equal(preview.scheduled, true);
  assert.deepEqual(preview.leaves.listSize, { before: from.listSize, after: from.listSize - moving.listSize });
  assert.deepEqual(preview.joins.listSize, { before: to.listSize, after: to.listSize + moving.listSize });
  assert.equal(preview.payeeNeeded, false);
  assert.equal((await practice(moving.ods)).move, null, 'a preview moves nothing');
  const missing = await get(`/api/practices/${moving.ods}/move-preview`);
  assert.equal(missing.statusCode, 422);
  assert.deepEqual(missing.json<ApiError>().error, { code: 'invalid', message: 'Select the PCN the practice is moving to', field: 'pcnCode' });
});

test('registry errors are plain English naming the field, never a code or an empty value echoed back', async () => {
  const cases: Array<[string, string, unknown, string, string]> = [
    ['PATCH', '/api/practices/Z90101', {}, 'pcnCode', 'Select the PCN the practice is moving to'],
    ['PATCH', '/api/practices/Z90101', { pcnCode: '' }, 'pcnCode', 'Select the PCN the practice is moving to'],
    ['PATCH', '/api/practices/Z90101', { pcnCode: 'U90002', date: '2027-02-30' }, 'date', 'The date the move takes effect must be a real date, written yyyy-mm-dd'],
    ['PATCH', '/api/practices/Z90101', { pcnCode: 'U90002', date: '' }, 'date', 'The date the move takes effect must be a real date, written yyyy-mm-dd'],
    ['POST', '/api/pcns', { code: '', name: 'A PCN', areaCode: 'Q99' }, 'code', 'Enter the PCN code'],
    ['POST', '/api/pcns', { code: 'X1', name: 'A PCN', areaCode: 'Q99' }, 'code', 'Enter a PCN code that is U followed by 5 digits, like U12345'],
    ['POST', '/api/pcns', { code: 'U90098', name: '  ', areaCode: 'Q99' }, 'name', 'Enter the PCN name'],
    ['PATCH', '/api/pcns/U90001', { clinicalDirector: '' }, 'clinicalDirector', 'Enter the clinical director’s name'],
    ['POST', '/api/pcns/U90001/partners', { name: '', type: 'voluntary' }, 'name', 'Enter the partner’s name'],
    ['POST', '/api/pcns/U90001/partners', { name: 'Somewhere', type: '' }, 'type', 'Select the type of partner'],
    ['POST', '/api/pcns/U90001/partners', { name: 'Somewhere', type: 'voluntary', postcode: '' }, 'postcode', 'Enter a real postcode, like NR1 3SR'],
  ];
  for (const [method, url, body, field, message] of cases) {
    const response = await send(method as 'POST', url, body);
    assert.equal(response.statusCode, 422, `${url} ${JSON.stringify(body)}: ${response.body}`);
    assert.deepEqual(response.json<ApiError>().error, { code: 'invalid', message, field }, JSON.stringify(body));
  }
  // Every field wrong is named at once, so a form can list them all; the first is the error's own.
  const several = (await send('POST', '/api/pcns', { areaCode: 'Q99' })).json<ApiError & { error: { errors: unknown } }>().error;
  assert.deepEqual(several, {
    code: 'invalid',
    message: 'Enter the PCN code',
    field: 'code',
    errors: [
      { message: 'Enter the PCN code', field: 'code' },
      { message: 'Enter the PCN name', field: 'name' },
    ],
  });
  // The rule's own words stay for what only software sends (a page size), with the field named.
  assert.match((await get('/api/pcns?limit=100000')).json<ApiError>().error.message, /^limit: /);
});
