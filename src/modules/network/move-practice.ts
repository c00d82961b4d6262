import { z } from 'zod';
import { registryToday, spokenDay } from '../../shared/dates.ts';
import { AppError, conflict, invalid, notFound } from '../../shared/errors.ts';
import { dateField, forPeople, odsCodeField } from '../../shared/schemas.ts';
import { changeRegistry } from './registry-cache.ts';
import type { Db } from '../../storage/db.ts';
import { assertCanEditPcn, type Actor } from '../access/index.ts';
import { recordAudit } from '../audit/index.ts';
import { inEffect } from './in-effect.ts';
import { handOverPayee, payeeOn, stayingMembers } from './payee.ts';
import { correctableMove, type PracticeMove } from './read-registry.ts';
import { sizeVerdict } from './size-rule.ts';
import type { SizeStatus } from './types.ts';

const moveTarget = odsCodeField('pcn', {
  missing: 'Select the PCN the practice is moving to',
  wrong: 'Enter the code of the PCN the practice is moving to: U followed by 5 digits, like U12345',
});
/** The day the practice joins the new PCN; its old membership ends the day before. Default: today. */
const moveDate = dateField('The date the move takes effect must be a real date, written yyyy-mm-dd');
/** The practice that becomes the nominated payee of the PCN left, when the practice moving is its payee. */
const newPayee = odsCodeField('practice', {
  missing: 'Select the new nominated payee',
  wrong: 'Enter the new nominated payee as a practice ODS code: 1 letter and 5 digits, like D82001',
});

export const movePracticeInput = z.object({ pcnCode: moveTarget, date: moveDate.optional(), newPayeeOds: newPayee.optional() });
export type MovePracticeInput = z.output<typeof movePracticeInput>;

export const correctMoveInput = z
  .object({ pcnCode: moveTarget.optional(), date: moveDate.optional(), newPayeeOds: newPayee.optional() })
  .refine((body) => body.pcnCode !== undefined || body.date !== undefined || body.newPayeeOds !== undefined, { message: forPeople('Say what to correct: pcnCode, date or newPayeeOds') });
export type CorrectMoveInput = z.output<typeof correctMoveInput>;

interface Place {
  code: string;
  name: string;
}

/** The membership a move leaves: its row, PCN and first day. */
interface Left extends Place {
  id: number;
  startDate: string;
}

interface Practice {
  ods: string;
  name: string;
  listSize: number | null;
}

async function lockPractice(tx: Db, ods: string): Promise<Practice> {
  const [practice] = await tx.query<Practice>('SELECT ods, name, list_size AS "listSize" FROM practice WHERE ods = $1 FOR UPDATE', [ods]);
  if (!practice) throw notFound(`Practice ${ods}`);
  return practice;
}

async function targetPcn(tx: Db, code: string): Promise<Place> {
  const [pcn] = await tx.query<Place>('SELECT code, name FROM pcn WHERE code = $1', [code]);
  if (!pcn) throw new AppError('not-found', `There is no PCN with the code ${code}`, 'pcnCode');
  return pcn;
}

async function membershipRow(tx: Db, id: number): Promise<Left> {
  const [row] = await tx.query<Left>(
    `SELECT m.id, m.pcn_code AS code, p.name, to_char(m.start_date, 'YYYY-MM-DD') AS "startDate"
       FROM practice_membership m JOIN pcn p ON p.code = m.pcn_code WHERE m.id = $1`,
    [id],
  );
  return row!;
}

/** The rules every move keeps, new or corrected: the actor's rights, a real change, after it joined what it leaves. */
function checkMove(actor: Actor, practice: Practice, left: Left | null, to: Place, date: string): void {
  assertCanEditPcn(actor, left?.code ?? to.code);
  if (left?.code === to.code) throw invalid('pcnCode', `${practice.name} is in ${to.name} already: select the PCN it is moving to`);
  if (left && date <= left.startDate) {
    throw invalid('date', `The move must take effect after ${practice.name} joined ${left.name} on ${spokenDay(left.startDate)}`);
  }
}

interface PlannedMove {
  practice: Practice;
  left: Left | null;
  to: Place;
  date: string;
}

/** A new move, checked: the practice, the membership it leaves (open, and in effect), the PCN it joins and the day. */
async function planMove(tx: Db, actor: Actor, ods: string, input: MovePracticeInput, today: string): Promise<PlannedMove> {
  const practice = await lockPractice(tx, ods);
  const to = await targetPcn(tx, input.pcnCode);
  const [open] = await tx.query<{ id: number }>('SELECT id FROM practice_membership WHERE practice_ods = $1 AND end_date IS NULL', [ods]);
  const left = open ? await membershipRow(tx, open.id) : null;
  if (left && left.startDate > today) {
    assertCanEditPcn(actor, left.code);
    throw conflict(`${practice.name} is already moving to ${left.name} on ${spokenDay(left.startDate)}: change or cancel that move instead`);
  }
  const date = input.date ?? today;
  checkMove(actor, practice, left, to, date);
  return { practice, left, to, date };
}

/** Both PCNs a move touches hear of it in their change history. */
async function auditMove(tx: Db, actor: Actor, action: string, ods: string, pcnCodes: Array<string | undefined>, summary: string, detail: Record<string, unknown>) {
  for (const pcnCode of new Set(pcnCodes)) {
    if (!pcnCode) continue;
    await recordAudit(tx, { actor: actor.email, action, entityType: 'practice', entityId: ods, pcnCode, summary, detail });
  }
}

/** Records a planned move: ends the membership it leaves, starts the new one, hands over the payee. */
async function recordMove(tx: Db, { practice, left, to, date }: PlannedMove, newPayeeOds: string | undefined, movedAt: string | null) {
  if (left) await tx.query('UPDATE practice_membership SET end_date = $2::date - 1 WHERE id = $1', [left.id, date]);
  const [joined] = (await tx.query<{ id: number }>(
    'INSERT INTO practice_membership (practice_ods, pcn_code, start_date, moved_at) VALUES ($1, $2, $3, COALESCE($4::timestamptz, now())) RETURNING id',
    [practice.ods, to.code, date, movedAt],
  )) as [{ id: number }];
  return left ? handOverPayee(tx, { practice, pcn: left, date, membershipId: joined.id }, newPayeeOds) : null;
}

/**
 * Moves a practice to another PCN on a day (default today). The old membership is ended the day before, not
 * deleted, so history stays; a day after today makes a scheduled move: the practice stays in its PCN for every
 * read until then. List sizes follow because they are summed from memberships in effect. A PCN manager may
 * move a practice out of their own PCN. Moving a PCN's nominated payee needs its new payee in the same step.
 */
export async function movePractice(db: Db, actor: Actor, ods: string, input: MovePracticeInput): Promise<void> {
  await changeRegistry(db, async (tx) => {
    const plan = await planMove(tx, actor, ods, input, registryToday());
    const { practice, left, to, date } = plan;
    const payee = await recordMove(tx, plan, input.newPayeeOds, null);
    const payeeWords = payee && left ? `; ${payee.name} (${payee.ods}) is the nominated payee of ${left.code} from then` : '';
    const summary = `${practice.name} (${ods}) moved ${left ? `from ${left.code} ` : ''}to ${to.code} on ${date}${payeeWords}`;
    await auditMove(tx, actor, 'practice.move', ods, [left?.code, to.code], summary, { from: left?.code ?? null, to: to.code, date, newPayeeOds: payee?.ods ?? null });
  });
}

/** The practice's move that can still be corrected or cancelled, or a 404 saying when that is possible. */
async function openMove(tx: Db, practice: Practice, today: string) {
  const move = await correctableMove(tx, practice.ods, today);
  if (!move) throw new AppError('not-found', `${practice.name} has no move to change: a move can be changed until it takes effect, or on the day it was made`);
  return move;
}

/** GET: the practice's move that can still be corrected or cancelled. */
export async function getMove(db: Db, ods: string): Promise<PracticeMove> {
  const [practice] = await db.query<Practice>('SELECT ods, name, list_size AS "listSize" FROM practice WHERE ods = $1', [ods]);
  if (!practice) throw notFound(`Practice ${ods}`);
  const { id: _id, fromId: _fromId, ...move } = await openMove(db, practice, registryToday());
  return move;
}

/**
 * Takes the practice's open move back, as if it had never been made: its membership is deleted (its payee
 * change with it) and the one it ended is open again. No membership of a day, or of none, is left behind.
 */
async function takeBack(tx: Db, actor: Actor, practice: Practice) {
  const move = await openMove(tx, practice, registryToday());
  assertCanEditPcn(actor, move.from?.code ?? move.to.code);
  await tx.query('DELETE FROM practice_membership WHERE id = $1', [move.id]);
  if (move.fromId !== null) await tx.query('UPDATE practice_membership SET end_date = NULL WHERE id = $1', [move.fromId]);
  return move;
}

/** Cancels a move not yet in effect, or one made today (the audit keeps both). */
export async function cancelMove(db: Db, actor: Actor, ods: string): Promise<void> {
  await changeRegistry(db, async (tx) => {
    const practice = await lockPractice(tx, ods);
    const move = await takeBack(tx, actor, practice);
    const summary = `${practice.name} (${ods}) stays ${move.from ? `in ${move.from.code}` : 'out of any PCN'}: its move to ${move.to.code} on ${move.date} was cancelled`;
    await auditMove(tx, actor, 'practice.move.cancel', ods, [move.from?.code, move.to.code], summary, { from: move.from?.code ?? null, to: move.to.code, date: move.date });
  });
}

/** A correction is the move taken back and made again as it should have been, checked like a new one. */
async function planCorrection(tx: Db, actor: Actor, ods: string, input: Partial<MovePracticeInput>) {
  const practice = await lockPractice(tx, ods);
  const move = await takeBack(tx, actor, practice);
  const pcnCode = input.pcnCode ?? move.to.code;
  if (move.from?.code === pcnCode) throw invalid('pcnCode', `${practice.name} is leaving ${move.from.name}: to keep it there, cancel the move`);
  const plan = await planMove(tx, actor, ods, { pcnCode, date: input.date ?? move.date }, registryToday());
  return { move, plan, newPayeeOds: input.newPayeeOds ?? move.newPayee?.ods };
}

/**
 * Corrects a move not yet in effect, or one made today: its target, its date or the new payee of the PCN it
 * leaves. Its rows are rewritten, so the history shows the move as it should have been, never a membership of
 * a day in the PCN it was first sent to. It stays open to change as long as the move it corrects was.
 */
export async function correctMove(db: Db, actor: Actor, ods: string, input: CorrectMoveInput): Promise<void> {
  await changeRegistry(db, async (tx) => {
    const { move, plan, newPayeeOds } = await planCorrection(tx, actor, ods, input);
    const { practice, left, to, date } = plan;
    const payee = await recordMove(tx, plan, newPayeeOds, move.movedAt);
    const summary = `${practice.name} (${ods}) now moves ${left ? `from ${left.code} ` : ''}to ${to.code} on ${date} (corrected from ${move.to.code} on ${move.date})`;
    await auditMove(tx, actor, 'practice.move.correct', ods, [left?.code, move.to.code, to.code], summary, {
      from: left?.code ?? null,
      to: to.code,
      date,
      was: { to: move.to.code, date: move.date },
      newPayeeOds: payee?.ods ?? null,
    });
  });
}

export interface PcnChange {
  code: string;
  name: string;
  sizeMin: number;
  sizeMax: number | null;
  listSize: { before: number; after: number };
  sizeStatus: { before: SizeStatus; after: SizeStatus };
  /** Why the list size after the move breaches the area's rule, or null. */
  sizeReason: string | null;
}

/** What a move would change, for a person to confirm before it is made. Nothing is written. */
export interface MovePreview {
  practice: { ods: string; name: string; listSize: number | null };
  date: string;
  scheduled: boolean;
  leaves: PcnChange | null;
  joins: PcnChange;
  /** The practice is the nominated payee of the PCN it leaves: the move needs that PCN's new payee. */
  payeeNeeded: boolean;
  /** The practices that could be the new payee (members staying in the PCN it leaves). */
  payeeChoices: Array<{ ods: string; name: string }>;
}

async function pcnChange(tx: Db, code: string, day: string, change: number): Promise<PcnChange> {
  const [row] = (await tx.query<{ code: string; name: string; sizeMin: number; sizeMax: number | null; listSize: number }>(
    `SELECT p.code, p.name, a.size_min AS "sizeMin", a.size_max AS "sizeMax",
            (SELECT COALESCE(sum(pr.list_size), 0)::bigint FROM practice_membership m JOIN practice pr ON pr.ods = m.practice_ods
              WHERE m.pcn_code = p.code AND ${inEffect('m', '$2::date')}) AS "listSize"
       FROM pcn p JOIN area a ON a.code = p.area_code WHERE p.code = $1`,
    [code, day],
  )) as [{ code: string; name: string; sizeMin: number; sizeMax: number | null; listSize: number }];
  const after = row.listSize + change;
  const verdict = sizeVerdict(after, row);
  return {
    code: row.code,
    name: row.name,
    sizeMin: row.sizeMin,
    sizeMax: row.sizeMax,
    listSize: { before: row.listSize, after },
    sizeStatus: { before: sizeVerdict(row.listSize, row).status, after: verdict.status },
    sizeReason: verdict.reason,
  };
}

/** What a planned move changes on its day (it is not recorded: on its day the practice is still where it is). */
async function whatItChanges(tx: Db, { practice, left, to, date }: PlannedMove): Promise<MovePreview> {
  const size = practice.listSize ?? 0;
  const leaves = left ? await pcnChange(tx, left.code, date, -size) : null;
  const joins = await pcnChange(tx, to.code, date, size);
  const payeeNeeded = left ? (await payeeOn(tx, left.code, date)) === practice.ods : false;
  const payeeChoices = left && payeeNeeded ? (await stayingMembers(tx, left.code, date)).filter((p) => p.ods !== practice.ods) : [];
  return { practice, date, scheduled: date > registryToday(), leaves, joins, payeeNeeded, payeeChoices };
}

/** The answer of work done in a transaction that is then rolled back. */
class RolledBack<T> {
  constructor(readonly value: T) {}
}

async function rolledBack<T>(db: Db, work: (tx: Db) => Promise<T>): Promise<T> {
  try {
    await db.transaction(async (tx) => {
      throw new RolledBack(await work(tx));
    });
  } catch (outcome) {
    if (outcome instanceof RolledBack) return outcome.value as T;
    throw outcome;
  }
  throw new Error('unreachable: the transaction always throws');
}

/** The move checked as it would be made, and what it would change on its day: list sizes against the rule, the payee. */
export async function previewMove(db: Db, actor: Actor, ods: string, input: MovePracticeInput): Promise<MovePreview> {
  return rolledBack(db, async (tx) => whatItChanges(tx, await planMove(tx, actor, ods, input, registryToday())));
}

/** The same for a correction of the practice's open move: worked out on the move taken back, then rolled back. */
export async function previewCorrection(db: Db, actor: Actor, ods: string, input: Partial<MovePracticeInput>): Promise<MovePreview> {
  return rolledBack(db, async (tx) => whatItChanges(tx, (await planCorrection(tx, actor, ods, input)).plan));
}
