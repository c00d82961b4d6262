/**
 * Population dashboards (issue 11, "Dashboards"): per practice, per PCN and for the area — the frailty pyramid,
 * the medication review backlog, care-gap rates with 95 % Wilson intervals, a funnel plot comparing practices
 * for one gap, and the monthly trend — for whoever may see that scope, audited once a view.
 *
 * Who sees what (docs/access.md, "Population dashboards"): clinical roles that reach their PCN's patients
 * (direct care) see their own PCN and its practices unsuppressed, everyone counted; every other view is
 * secondary use — PCN and practice managers their PCN, analysts and admins any PCN and the area — which
 * leaves out patients with the national data opt-out and suppresses counts of 1–4 (and, secondarily, whatever
 * would give one away by subtraction).
 */
import { forbidden, notFound } from '../../shared/errors.ts';
import { registryToday } from '../../shared/dates.ts';
import type { Db } from '../../storage/db.ts';
import { type Actor, pcnCodesOf, policyOf, roleWords } from '../access/index.ts';
import { recordAudit } from '../audit/index.ts';
import { cachedRead, loadRegistry } from '../network/index.ts';
import { careGapNames } from './care-gaps.ts';
import { type DashboardPurpose, type PracticeCounts, practiceCounts, practiceSeries } from './dashboard-data.ts';
import { funnelLimits, funnelPosition, type Interval, suppressLines, wilsonInterval } from './dashboard-stats.ts';
import { RULES_VERSION } from './rules-version.ts';

export type DashboardScope = { kind: 'practice'; code: string } | { kind: 'pcn'; code: string } | { kind: 'area'; code: string };

/** A count, or null when suppressed ("<5", or hidden so that a suppressed count cannot be worked out). */
export type Count = number | null;

export const EFI_BANDS = ['fit', 'mild', 'moderate', 'severe', 'refused'] as const;

export interface GapFigures {
  id: string;
  name: string;
  /** Patients with the gap open (the numerator). */
  open: Count;
  /** Patients on the gap's register and in its denominator: open + closed. */
  denominator: Count;
  /** open / denominator; null when either is suppressed or there is no denominator. */
  rate: number | null;
  /** The rate's 95 % Wilson score interval. */
  interval: Interval | null;
}

export interface UnitFigures {
  code: string;
  name: string;
  patients: Count;
  /** Patients aged 65 and over (the eFI's population) by band; `refused` = the eFI could not be answered. */
  frailty: { aged65: Count } & Record<(typeof EFI_BANDS)[number], Count>;
  /** The structured medication review backlog: patients with priority, and those the rule could not decide. */
  smr: { priority: Count; refused: Count };
  gaps: GapFigures[];
}

export interface Dashboard {
  scope: { kind: DashboardScope['kind']; code: string; name: string };
  /** The as-of day of the run the figures are from (the latest); null before any run. */
  asOf: string | null;
  rulesVersion: string;
  purpose: DashboardPurpose;
  /** Counts of 1–4 are hidden (and what would give them away): true for secondary use. */
  suppressed: boolean;
  /** The whole scope. */
  total: UnitFigures;
  /** Its parts: a PCN's practices, the area's PCNs; none for a practice. */
  units: UnitFigures[];
}

interface Unit {
  code: string;
  name: string;
  practices: string[];
}

interface ResolvedScope {
  scope: Dashboard['scope'];
  /** The PCN a practice or PCN view belongs to (for the access decision and the audit). */
  pcnCode: string | null;
  units: Unit[];
  /**
   * The area the scope is in, as every view of it publishes it: suppression is worked out over all of it at once,
   * so a count hidden in one view (a PCN's) is hidden in every other (the practice's, the area's) too.
   */
  hierarchy: Hierarchy;
}

interface Hierarchy {
  area: Unit;
  pcns: Array<{ pcn: Unit; practices: Unit[] }>;
}

/** The scope's parts and its area's hierarchy, from the registry in effect today. */
async function resolveScope(db: Db, scope: DashboardScope): Promise<ResolvedScope> {
  const registry = await cachedRead(db, 'population-dashboard-registry', () => loadRegistry(db));
  const today = registryToday();
  const members = registry.memberships.filter((m) => m.startDate <= today && (m.endDate === null || m.endDate >= today));
  const practiceName = new Map(registry.practices.map((p) => [p.ods, p.name]));
  const practiceUnit = (ods: string): Unit => ({ code: ods, name: practiceName.get(ods) ?? ods, practices: [ods] });
  const pcnUnits = (pcn: { code: string; name: string }) => {
    const practices = members
      .filter((m) => m.pcnCode === pcn.code)
      .map((m) => practiceUnit(m.practiceOds))
      .sort((a, b) => a.code.localeCompare(b.code));
    return { pcn: { code: pcn.code, name: pcn.name, practices: practices.map((p) => p.code) }, practices };
  };
  const hierarchyOf = (areaCode: string | undefined): Hierarchy | null => {
    const area = registry.areas.find((a) => a.code === areaCode);
    if (!area) return null;
    const pcns = registry.pcns.filter((p) => p.areaCode === area.code).map(pcnUnits);
    return { area: { code: area.code, name: area.name, practices: pcns.flatMap((p) => p.pcn.practices) }, pcns };
  };
  if (scope.kind === 'practice') {
    if (!practiceName.has(scope.code)) throw notFound(`Practice ${scope.code}`);
    const pcnCode = members.find((m) => m.practiceOds === scope.code)?.pcnCode ?? null;
    const alone: Hierarchy = { area: practiceUnit(scope.code), pcns: [] };
    const hierarchy = hierarchyOf(registry.pcns.find((p) => p.code === pcnCode)?.areaCode) ?? alone;
    return { scope: { ...scope, name: practiceName.get(scope.code)! }, pcnCode, units: [], hierarchy };
  }
  if (scope.kind === 'pcn') {
    const pcn = registry.pcns.find((p) => p.code === scope.code);
    if (!pcn) throw notFound(`PCN ${scope.code}`);
    const hierarchy = hierarchyOf(pcn.areaCode) ?? { area: pcnUnits(pcn).pcn, pcns: [] };
    return { scope: { ...scope, name: pcn.name }, pcnCode: pcn.code, units: pcnUnits(pcn).practices, hierarchy };
  }
  const hierarchy = hierarchyOf(scope.code);
  if (!hierarchy) throw notFound(`Area ${scope.code}`);
  return { scope: { ...scope, name: hierarchy.area.name }, pcnCode: null, units: hierarchy.pcns.map((p) => p.pcn), hierarchy };
}

const AREA_ROLES: ReadonlySet<string> = new Set(['analyst', 'admin']);
const PCN_AGGREGATE_ROLES: ReadonlySet<string> = new Set(['pcn-manager', 'practice-manager']);

/** May the actor see this scope, and for which purpose (direct care unsuppressed, or secondary use)? */
export function dashboardPurpose(actor: Actor, resolved: Pick<ResolvedScope, 'scope' | 'pcnCode'>): DashboardPurpose {
  if (AREA_ROLES.has(actor.role)) return 'secondary-use';
  const own = resolved.pcnCode !== null && pcnCodesOf(actor).includes(resolved.pcnCode);
  if (resolved.scope.kind === 'area') throw forbidden(`${roleWords(actor.role)} does not see the area's dashboard: it is for analysts and admins`);
  if (!own) throw forbidden(`${roleWords(actor.role)} sees the dashboards of their own PCN and its practices, not ${resolved.scope.kind === 'pcn' ? 'PCN' : 'practice'} ${resolved.scope.code}`);
  if (policyOf(actor.role).reach === 'pcn') return 'direct-care';
  if (PCN_AGGREGATE_ROLES.has(actor.role)) return 'secondary-use';
  throw forbidden(`${roleWords(actor.role)} does not see population dashboards`);
}

export interface DashboardRequest {
  method: string;
  url: string;
  id?: string;
}

/** Checks the actor may see the scope, and records the look once (a secondary-use look at aggregates names no patient). */
async function openView(db: Db, actor: Actor, scope: DashboardScope, view: string, request: DashboardRequest): Promise<{ resolved: ResolvedScope; purpose: DashboardPurpose }> {
  const resolved = await resolveScope(db, scope);
  const audit = (outcome: 'success' | 'denied', purpose: DashboardPurpose | null, reason?: string) =>
    recordAudit(db, {
      actor: actor.email,
      orgCode: actor.orgCode,
      role: actor.role,
      clientId: actor.clientId ?? null,
      purpose,
      requestId: request.id ?? null,
      action: 'population.dashboard',
      entityType: scope.kind === 'area' ? 'Area' : scope.kind === 'pcn' ? 'Pcn' : 'Practice',
      entityId: scope.code,
      pcnCode: resolved.pcnCode,
      summary: `Population dashboard (${view}) of ${resolved.scope.name} seen as ${purpose === 'direct-care' ? 'counts for direct care' : 'aggregates for secondary use (opt-outs left out, small counts suppressed)'}`,
      outcome,
      detail: { request: `${request.method} ${request.url.slice(0, 500)}`, view, ...(reason ? { reason } : {}) },
    });
  let purpose: DashboardPurpose;
  try {
    purpose = dashboardPurpose(actor, resolved);
  } catch (error) {
    await audit('denied', null, error instanceof Error ? error.message : String(error));
    throw error;
  }
  await audit('success', purpose);
  return { resolved, purpose };
}

const sumOver = (counts: PracticeCounts, practices: readonly string[], measure: string) => practices.reduce((sum, ods) => sum + (counts.get(ods)?.get(measure) ?? 0), 0);

/** A unit's raw counts as blocks; each block is a line of cells ending in its total. */
function rawBlocks(counts: PracticeCounts, practices: readonly string[], gaps: ReadonlyArray<{ id: string }>) {
  const n = (measure: string) => sumOver(counts, practices, measure);
  const bands = EFI_BANDS.map((band) => n(`efi:${band}`));
  const patients = n('patients');
  const priority = n('smr:priority');
  const refused = n('smr:refused');
  return {
    patients: [patients],
    frailty: [...bands, bands.reduce((a, b) => a + b, 0)],
    smr: [priority, refused, patients - priority - refused, patients],
    gaps: gaps.map(({ id }) => {
      const open = n(`gap:${id}:open`);
      const closed = n(`gap:${id}:closed`);
      return [open, closed, open + closed];
    }),
  };
}

type Blocks = ReturnType<typeof rawBlocks>;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * The figures of every unit of the area (its practices, its PCNs and itself), suppressed for secondary use. Each
 * block (the patients count, the frailty bands with their total, the review backlog with the rest of the list,
 * each gap's open and closed with the denominator) is published as rows of parts ending in their total, and down
 * each column as practices summing to their PCN and PCNs to the area: all those lines are suppressed together,
 * so no hidden count is a total less the rest in any view.
 */
function figures(hierarchy: Hierarchy, counts: PracticeCounts, suppress: boolean): Map<string, UnitFigures> {
  const gapNames = careGapNames();
  const all = [hierarchy.area, ...hierarchy.pcns.flatMap((p) => [p.pcn, ...p.practices])];
  const at = new Map(all.map((unit, i) => [unit.code, i]));
  const raw = all.map((unit) => rawBlocks(counts, unit.practices, gapNames));
  const table = (pick: (b: Blocks) => number[]): Count[][] => {
    const width = pick(raw[0]!).length;
    const cells = raw.flatMap(pick);
    const cell = (unit: Unit, column: number) => at.get(unit.code)! * width + column;
    const lines = suppress
      ? [
          ...all.map((unit) => range(width).map((c) => cell(unit, c))),
          ...range(width).flatMap((c) => [
            [...hierarchy.pcns.map((p) => cell(p.pcn, c)), cell(hierarchy.area, c)],
            ...hierarchy.pcns.map((p) => [...p.practices.map((practice) => cell(practice, c)), cell(p.pcn, c)]),
          ]),
        ]
      : [];
    const shown = suppress ? suppressLines(cells, lines) : cells;
    return all.map((_, u) => shown.slice(u * width, (u + 1) * width));
  };
  const patients = table((b) => b.patients);
  const frailty = table((b) => b.frailty);
  const smr = table((b) => b.smr);
  const gaps = gapNames.map((_, g) => table((b) => b.gaps[g]!));
  return new Map(
    all.map((unit, u): [string, UnitFigures] => {
      const bands = frailty[u]!;
      return [
        unit.code,
        {
          code: unit.code,
          name: unit.name,
          patients: patients[u]![0]!,
          frailty: { fit: bands[0]!, mild: bands[1]!, moderate: bands[2]!, severe: bands[3]!, refused: bands[4]!, aged65: bands[5]! },
          smr: { priority: smr[u]![0]!, refused: smr[u]![1]! },
          gaps: gapNames.map(({ id, name }, g) => {
            const [open = null, , denominator = null] = gaps[g]![u]!;
            const shown = open !== null && denominator !== null && denominator > 0;
            return { id, name, open, denominator, rate: shown ? open / denominator : null, interval: shown ? wilsonInterval(open, denominator) : null };
          }),
        },
      ];
    }),
  );
}

/** The scope's own figures and its parts', from the area's. */
function scopeFigures(resolved: ResolvedScope, counts: PracticeCounts, purpose: DashboardPurpose): { total: UnitFigures; units: UnitFigures[] } {
  const byCode = figures(resolved.hierarchy, counts, purpose === 'secondary-use');
  return { total: byCode.get(resolved.scope.code)!, units: resolved.units.map((u) => byCode.get(u.code)!) };
}

/** The dashboard of a practice, a PCN or the area now; `rank` orders the units by a measure (area ranking). */
export async function populationDashboard(db: Db, actor: Actor, scope: DashboardScope, request: DashboardRequest, options: { rank?: RankMeasure; signal?: AbortSignal } = {}): Promise<Dashboard> {
  const { resolved, purpose } = await openView(db, actor, scope, 'now', request);
  const { counts, asOf } = await practiceCounts(db, resolved.hierarchy.area.practices, purpose, options.signal);
  const shaped = scopeFigures(resolved, counts, purpose);
  const units = options.rank ? rankUnits(shaped.units, options.rank) : shaped.units;
  return { scope: resolved.scope, asOf, rulesVersion: RULES_VERSION, purpose, suppressed: purpose === 'secondary-use', total: shaped.total, units };
}

/** What the area view ranks PCNs by: a gap's rate, the share of the 65+ in a frailty band, or the review backlog per 1,000 patients. */
export type RankMeasure = { kind: 'gap'; id: string } | { kind: 'frailty'; band: (typeof EFI_BANDS)[number] } | { kind: 'smr' };

/** The value a unit is ranked by (null when suppressed or undefined: ranked last). */
export function rankValue(unit: UnitFigures, measure: RankMeasure): number | null {
  if (measure.kind === 'gap') return unit.gaps.find((g) => g.id === measure.id)?.rate ?? null;
  const ratio = (part: Count, whole: Count, per = 1) => (part === null || whole === null || whole === 0 ? null : (part / whole) * per);
  if (measure.kind === 'frailty') return ratio(unit.frailty[measure.band], unit.frailty.aged65);
  return ratio(unit.smr.priority, unit.patients, 1000);
}

/** Highest first; ties and unknowns by code, so the order is stable. */
export function rankUnits(units: readonly UnitFigures[], measure: RankMeasure): UnitFigures[] {
  return [...units].sort((a, b) => {
    const x = rankValue(a, measure);
    const y = rankValue(b, measure);
    if (x === null || y === null) return x === y ? a.code.localeCompare(b.code) : x === null ? 1 : -1;
    return y - x || a.code.localeCompare(b.code);
  });
}

export interface FunnelPoint {
  code: string;
  name: string;
  /** null when suppressed (the point would give its counts away). */
  denominator: Count;
  rate: number | null;
  position: 'within' | 'warning' | 'alarm' | null;
}

export interface Funnel {
  scope: Dashboard['scope'];
  asOf: string | null;
  gap: { id: string; name: string };
  purpose: DashboardPurpose;
  /** The scope's overall rate, the centre line; null with no denominator. */
  centre: number | null;
  /** How the limits are drawn: the normal approximation to the binomial at 95 % and 99.8 %. */
  method: 'normal-approximation';
  /** The limits at denominators from 1 to the largest practice's, for drawing the funnel. */
  limits: Array<{ denominator: number; inner: Interval; outer: Interval }>;
  points: FunnelPoint[];
}

/** The funnel plot of one gap: every practice of the PCN (or of the area) against the scope's overall rate. */
export async function populationFunnel(db: Db, actor: Actor, scope: DashboardScope, gapId: string, request: DashboardRequest, signal?: AbortSignal): Promise<Funnel> {
  const gap = careGapNames().find((g) => g.id === gapId);
  if (!gap) throw notFound(`care gap ${gapId}`);
  const { resolved, purpose } = await openView(db, actor, scope, `funnel ${gapId}`, request);
  const { counts, asOf } = await practiceCounts(db, resolved.hierarchy.area.practices, purpose, signal);
  const byCode = figures(resolved.hierarchy, counts, purpose === 'secondary-use');
  const practices = resolved.scope.kind === 'area' ? resolved.hierarchy.pcns.flatMap((p) => p.practices) : resolved.units;
  // The centre is the scope's own rate as its dashboard shows it: none where that is suppressed.
  const centre = byCode.get(resolved.scope.code)!.gaps.find((g) => g.id === gapId)!.rate;
  const points = practices.map((practice): FunnelPoint => {
    const { denominator, rate } = byCode.get(practice.code)!.gaps.find((g) => g.id === gapId)!;
    return {
      code: practice.code,
      name: practice.name,
      denominator: rate === null ? null : denominator,
      rate,
      position: rate === null || centre === null || !denominator ? null : funnelPosition(rate, funnelLimits(centre, denominator)),
    };
  });
  const largest = Math.max(0, ...points.map((p) => p.denominator ?? 0));
  const limits = centre === null ? [] : funnelSteps(largest).map((n) => ({ denominator: n, ...funnelLimits(centre, n) }));
  return { scope: resolved.scope, asOf, gap, purpose, centre, method: 'normal-approximation', limits, points };
}

/** Denominators to draw the limits at: every one up to 20, then about 60 steps on a log scale to the largest. */
function funnelSteps(largest: number): number[] {
  const steps = new Set<number>();
  for (let n = 1; n <= Math.min(20, largest); n++) steps.add(n);
  for (let i = 0; i <= 60 && largest > 20; i++) steps.add(Math.round(20 * (largest / 20) ** (i / 60)));
  return [...steps].sort((a, b) => a - b);
}

export interface Trends {
  scope: Dashboard['scope'];
  purpose: DashboardPurpose;
  suppressed: boolean;
  /** One point a month (the last run of the month), oldest first. */
  months: Array<{ month: string; figures: UnitFigures }>;
}

/** The scope's monthly trend, from each month's last run (population_dashboard_month). */
export async function populationTrends(db: Db, actor: Actor, scope: DashboardScope, request: DashboardRequest, signal?: AbortSignal): Promise<Trends> {
  const { resolved, purpose } = await openView(db, actor, scope, 'trends', request);
  const series = await practiceSeries(db, resolved.hierarchy.area.practices, purpose, signal);
  const months = [...series].map(([month, counts]) => ({ month, figures: scopeFigures(resolved, counts, purpose).total }));
  return { scope: resolved.scope, purpose, suppressed: purpose === 'secondary-use', months };
}
