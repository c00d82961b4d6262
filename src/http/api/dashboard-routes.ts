/**
 * Population dashboards' /api doors: GET /api/population/dashboard (frailty pyramid, medication review backlog,
 * care-gap rates with 95 % intervals; `rank` orders the area's PCNs), /dashboard/trends (monthly) and
 * /dashboard/funnel?gap= (practices against the overall rate). Exactly one of `practice`, `pcn`, `area` names
 * the scope. Who may see which, and how, is the population module's decision (dashboard.ts); each view is audited once.
 */
import { z } from 'zod';
import type { ZodApp } from '../app.ts';
import { careGapNames, EFI_BANDS, populationDashboard, populationFunnel, populationTrends, type DashboardScope, type RankMeasure } from '../../modules/population/index.ts';
import { odsCode } from '../../shared/schemas.ts';

const scopeQuery = z.object({ practice: odsCode('practice').optional(), pcn: odsCode('pcn').optional(), area: odsCode('icb').optional() });

const oneScope = <T extends z.infer<typeof scopeQuery>>(query: T, ctx: z.RefinementCtx) => {
  const given = (['practice', 'pcn', 'area'] as const).filter((key) => query[key] !== undefined);
  if (given.length !== 1) ctx.addIssue({ code: 'custom', path: [given[1] ?? 'pcn'], message: 'name exactly one of practice, pcn or area' });
};

const scopeOf = (query: z.infer<typeof scopeQuery>): DashboardScope =>
  query.practice ? { kind: 'practice', code: query.practice } : query.pcn ? { kind: 'pcn', code: query.pcn } : { kind: 'area', code: query.area! };

/** `rank=gap:<id>`, `rank=frailty:<band>` or `rank=smr`. */
const rankField = z
  .string()
  .transform((text, ctx): RankMeasure | typeof z.NEVER => {
    const [kind, id] = text.split(':');
    if (kind === 'smr' && id === undefined) return { kind: 'smr' };
    if (kind === 'frailty' && (EFI_BANDS as readonly string[]).includes(id ?? '')) return { kind: 'frailty', band: id as (typeof EFI_BANDS)[number] };
    if (kind === 'gap' && careGapNames().some((g) => g.id === id)) return { kind: 'gap', id: id! };
    ctx.addIssue({
      code: 'custom',
      message: `rank by smr, frailty:<${EFI_BANDS.join('|')}> or gap:<${careGapNames()
        .map((g) => g.id)
        .join('|')}>`,
    });
    return z.NEVER;
  })
  .optional();

const requestOf = (request: { method: string; url: string; id: string }) => ({ method: request.method, url: request.url, id: request.id });

export function dashboardRoutes(app: ZodApp) {
  const db = app.db;
  app.get(
    '/api/population/dashboard',
    {
      schema: {
        summary:
          'Population dashboard of a practice, a PCN or the area: frailty pyramid (65+ by eFI band), medication review backlog, care-gap rates with 95 % Wilson intervals; each part (the PCN’s practices, the area’s PCNs) beside the whole, ranked by `rank` when given. Secondary use (managers, analysts, admins) leaves out national data opt-outs and suppresses counts of 1–4 as null. Audited.',
        tags: ['population'],
        querystring: scopeQuery.extend({ rank: rankField }).superRefine(oneScope),
      },
    },
    async (request) => populationDashboard(db, request.actor!, scopeOf(request.query), requestOf(request), { rank: request.query.rank }),
  );
  app.get(
    '/api/population/dashboard/trends',
    {
      schema: {
        summary: 'The dashboard’s figures month by month (each month’s last `pcn population run`), oldest first; suppressed as the dashboard is. Audited.',
        tags: ['population'],
        querystring: scopeQuery.superRefine(oneScope),
      },
    },
    async (request) => populationTrends(db, request.actor!, scopeOf(request.query), requestOf(request)),
  );
  app.get(
    '/api/population/dashboard/funnel',
    {
      schema: {
        summary:
          'Funnel plot of one care gap: each practice of the PCN or area (rate against denominator) around the overall rate, with 95 % and 99.8 % control limits (normal approximation to the binomial). Audited.',
        tags: ['population'],
        querystring: z
          .object({
            pcn: odsCode('pcn').optional(),
            area: odsCode('icb').optional(),
            practice: z.undefined({ error: 'a funnel compares practices: name a pcn or an area' }).optional(),
            gap: z.string().min(1).max(64),
          })
          .superRefine(oneScope),
      },
    },
    async (request) => populationFunnel(db, request.actor!, scopeOf(request.query), request.query.gap, requestOf(request)),
  );
}
