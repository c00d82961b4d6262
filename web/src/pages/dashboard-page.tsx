/**
 * Population dashboards (issue 11): a practice's, a PCN's or the area's frailty pyramid, medication review
 * backlog, care-gap rates with 95 % intervals, a funnel plot of one gap and the monthly trend. Every chart is an
 * SVG image with a text summary and the same numbers in a table beneath it; counts the server suppressed show as
 * "<5" (secondary use). The area view ranks its PCNs by a chosen measure.
 */
import { useId } from 'react';
import { api, type Dashboard, type Funnel, type Trends, type UnitFigures } from '../api.ts';
import { TrendChart } from '../components/record/trend-chart.tsx';
import { SelectField } from '../components/forms.tsx';
import { Breadcrumb, LoadFailed, Loading, TableHead, TableRegion } from '../components/page-parts.tsx';
import { formatCount, formatDate } from '../format.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import { usePageTitle, useResource } from '../use-resource.ts';
import '../components/record/record.css';
import './dashboard.css';

export type DashboardKind = 'practice' | 'pcn' | 'area';

const BANDS = [
  ['severe', 'Severe frailty'],
  ['moderate', 'Moderate frailty'],
  ['mild', 'Mild frailty'],
  ['fit', 'Fit'],
  ['refused', 'Could not be scored'],
] as const;

const percent = new Intl.NumberFormat('en-GB', { style: 'percent', maximumFractionDigits: 1 });
/** A count as shown: suppressed counts (null) as "<5". */
export const shownCount = (n: number | null): string => (n === null ? '<5' : formatCount(n));
const shownRate = (rate: number | null) => (rate === null ? 'Not shown' : percent.format(rate));

/** Counts as the numeric cells of a table row. */
function CountCells({ counts }: { counts: ReadonlyArray<number | null> }) {
  return counts.map((n, i) => (
    <td className="nhsuk-table__cell nhsuk-table__cell--numeric" key={i}>
      {shownCount(n)}
    </td>
  ));
}

const dashboardPath = (kind: DashboardKind, code: string) => `/dashboards/${kind}/${encodeURIComponent(code)}`;

export function DashboardPage({ kind, code }: { kind: DashboardKind; code: string }) {
  const { search } = useLocation();
  const rank = search.get('rank') ?? undefined;
  const gap = search.get('gap') ?? undefined;
  const dashboard = useResource(() => api.populationDashboard(kind, code, rank), `${kind}:${code}:${rank ?? ''}`);
  usePageTitle(dashboard.state === 'ready' ? `Population dashboard: ${dashboard.data.scope.name}` : 'Population dashboard');
  if (dashboard.state === 'loading') return <Loading what="the population dashboard" />;
  if (dashboard.state === 'failed') return <LoadFailed error={dashboard.error} what="Population dashboard" retry={dashboard.reload} />;
  const data = dashboard.data;
  const chosenGap = gap ?? (data.total.gaps.find((g) => g.denominator) ?? data.total.gaps[0])?.id;
  return (
    <>
      <Breadcrumb crumbs={[{ href: '/', text: 'Area overview' }]} />
      <span className="nhsuk-caption-l">
        Population dashboard · {kind === 'practice' ? 'GP practice' : kind === 'pcn' ? 'PCN' : 'Area'} {data.scope.code}
      </span>
      <h1>{data.scope.name}</h1>
      <p className="nhsuk-body" data-testid="dashboard-basis">
        {data.asOf ? `Figures as of ${formatDate(data.asOf)} (the latest population run), rules ${data.rulesVersion}.` : 'No population run has been made yet.'}{' '}
        {data.suppressed
          ? 'Aggregates for planning: patients who opted out of secondary use are left out, and counts of 1 to 4 (and any count that would give one away) are shown as <5.'
          : 'For direct care of your PCN’s patients: everyone is counted.'}
      </p>
      <FrailtyPyramid figures={data.total} />
      <SmrBacklog dashboard={data} />
      <GapRates figures={data.total} />
      {kind !== 'practice' && chosenGap && <FunnelSection kind={kind} code={code} gap={chosenGap} gaps={data.total.gaps} />}
      {kind === 'area' && <Ranking dashboard={data} rank={rank} />}
      {kind === 'pcn' && (
        <section aria-labelledby="practices-heading">
          <h2 id="practices-heading">The PCN’s practices</h2>
          <UnitsTable dashboard={data} ranked={false} />
        </section>
      )}
      <TrendSection kind={kind} code={code} />
    </>
  );
}

/** Horizontal bars: one per row, its count written at its end (or "<5"), so the image reads without the scale. */
function Bars({ title, summary, rows }: { title: string; summary: string; rows: Array<{ label: string; value: number | null }> }) {
  const id = useId();
  const width = 480;
  const rowHeight = 28;
  const left = 210;
  const max = Math.max(1, ...rows.map((r) => r.value ?? 0));
  return (
    <svg className="pcn-dashboard__chart" viewBox={`0 0 ${width} ${rows.length * rowHeight + 8}`} role="img" aria-labelledby={`${id}-title`} aria-describedby={`${id}-desc`}>
      <title id={`${id}-title`}>{title}</title>
      <desc id={`${id}-desc`}>{summary}</desc>
      {rows.map((row, i) => {
        const y = 4 + i * rowHeight;
        const w = row.value === null ? 0 : ((width - left - 60) * row.value) / max;
        return (
          <g key={row.label}>
            <text x={left - 8} y={y + rowHeight / 2} dy="0.32em" textAnchor="end" className="pcn-trend__tick">
              {row.label}
            </text>
            <rect x={left} y={y + 4} width={w} height={rowHeight - 8} fill="#005eb8" />
            <text x={left + w + 6} y={y + rowHeight / 2} dy="0.32em" className="pcn-trend__tick">
              {shownCount(row.value)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

function FrailtyPyramid({ figures }: { figures: UnitFigures }) {
  const rows = BANDS.map(([band, label]) => ({ label, value: figures.frailty[band] }));
  const share = (n: number | null) => (n === null || !figures.frailty.aged65 ? '–' : percent.format(n / figures.frailty.aged65));
  return (
    <section aria-labelledby="frailty-heading" data-testid="frailty">
      <h2 id="frailty-heading">Frailty of patients aged 65 and over</h2>
      <Bars
        title="Patients aged 65 and over by electronic frailty index band"
        summary={`${shownCount(figures.frailty.aged65)} patients aged 65 and over: ${rows.map((r) => `${r.label} ${shownCount(r.value)}`).join(', ')}.`}
        rows={rows}
      />
      <TableRegion label="Frailty bands">
        <table className="nhsuk-table">
          <caption className="nhsuk-table__caption">Patients aged 65 and over by eFI band</caption>
          <TableHead headings={['Band', { text: 'Patients', numeric: true }, { text: 'Share of 65 and over', numeric: true }]} />
          <tbody className="nhsuk-table__body">
            {[...rows, { label: 'All aged 65 and over', value: figures.frailty.aged65 }].map((row) => (
              <tr className="nhsuk-table__row" key={row.label}>
                <th scope="row" className="nhsuk-table__cell">
                  {row.label}
                </th>
                <td className="nhsuk-table__cell nhsuk-table__cell--numeric">{shownCount(row.value)}</td>
                <td className="nhsuk-table__cell nhsuk-table__cell--numeric">{share(row.value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableRegion>
    </section>
  );
}

function SmrBacklog({ dashboard }: { dashboard: Dashboard }) {
  const rows = [...dashboard.units, dashboard.total];
  return (
    <section aria-labelledby="smr-heading" data-testid="smr">
      <h2 id="smr-heading">Structured medication review backlog</h2>
      <Bars
        title="Patients with structured medication review priority"
        summary={`${shownCount(dashboard.total.smr.priority)} patients in ${dashboard.scope.name} have review priority.`}
        rows={rows.map((u) => ({ label: u === dashboard.total ? 'All' : u.name.slice(0, 26), value: u.smr.priority }))}
      />
      <TableRegion label="Medication review backlog">
        <table className="nhsuk-table">
          <caption className="nhsuk-table__caption">Patients with review priority</caption>
          <TableHead
            headings={[
              dashboard.scope.kind === 'area' ? 'PCN' : 'Practice',
              { text: 'Patients', numeric: true },
              { text: 'Review priority', numeric: true },
              { text: 'Rule could not decide', numeric: true },
            ]}
          />
          <tbody className="nhsuk-table__body">
            {rows.map((u) => (
              <tr className="nhsuk-table__row" key={u.code}>
                <th scope="row" className="nhsuk-table__cell">
                  {u === dashboard.total ? `All of ${u.name}` : u.name}
                </th>
                <CountCells counts={[u.patients, u.smr.priority, u.smr.refused]} />
              </tr>
            ))}
          </tbody>
        </table>
      </TableRegion>
    </section>
  );
}

/** Each gap's rate as a dot with its 95 % interval as a whisker, on one 0–100 % scale. */
function GapRates({ figures }: { figures: UnitFigures }) {
  const id = useId();
  const width = 480;
  const left = 40;
  const right = 20;
  const rowHeight = 24;
  const x = (rate: number) => left + rate * (width - left - right);
  const height = figures.gaps.length * rowHeight + 30;
  return (
    <section aria-labelledby="gaps-heading" data-testid="gaps">
      <h2 id="gaps-heading">Care gaps: share of each register with the gap open</h2>
      <svg className="pcn-dashboard__chart" viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${id}-title`} aria-describedby={`${id}-desc`}>
        <title id={`${id}-title`}>Care-gap rates with 95% confidence intervals</title>
        <desc id={`${id}-desc`}>{figures.gaps.map((g) => `${g.name}: ${shownRate(g.rate)}`).join('; ')}</desc>
        {[0, 0.25, 0.5, 0.75, 1].map((tick) => (
          <g key={tick}>
            <line x1={x(tick)} x2={x(tick)} y1={0} y2={height - 24} stroke="#d8dde0" />
            <text x={x(tick)} y={height - 8} textAnchor="middle" className="pcn-trend__tick">
              {percent.format(tick)}
            </text>
          </g>
        ))}
        {figures.gaps.map((g, i) => {
          const y = i * rowHeight + rowHeight / 2;
          return (
            <g key={g.id}>
              <text x={4} y={y} dy="0.32em" className="pcn-trend__tick">
                {i + 1}
              </text>
              {g.interval && <line x1={x(g.interval.lower)} x2={x(g.interval.upper)} y1={y} y2={y} stroke="#425563" strokeWidth={2} />}
              {g.rate !== null && <circle cx={x(g.rate)} cy={y} r={5} fill="#005eb8" />}
            </g>
          );
        })}
      </svg>
      <TableRegion label="Care-gap rates">
        <table className="nhsuk-table">
          <caption className="nhsuk-table__caption">Care gaps open, of the patients each applies to</caption>
          <TableHead
            headings={['Number', 'Care gap', { text: 'Open', numeric: true }, { text: 'Applies to', numeric: true }, { text: 'Rate', numeric: true }, { text: '95% interval', numeric: true }]}
          />
          <tbody className="nhsuk-table__body">
            {figures.gaps.map((g, i) => (
              <tr className="nhsuk-table__row" key={g.id} data-gap={g.id}>
                <td className="nhsuk-table__cell">{i + 1}</td>
                <th scope="row" className="nhsuk-table__cell">
                  {g.name}
                </th>
                <td className="nhsuk-table__cell nhsuk-table__cell--numeric">{shownCount(g.open)}</td>
                <td className="nhsuk-table__cell nhsuk-table__cell--numeric">{shownCount(g.denominator)}</td>
                <td className="nhsuk-table__cell nhsuk-table__cell--numeric">{shownRate(g.rate)}</td>
                <td className="nhsuk-table__cell nhsuk-table__cell--numeric">{g.interval ? `${percent.format(g.interval.lower)} to ${percent.format(g.interval.upper)}` : '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableRegion>
    </section>
  );
}

function FunnelSection({ kind, code, gap, gaps }: { kind: DashboardKind; code: string; gap: string; gaps: UnitFigures['gaps'] }) {
  const funnel = useResource(() => api.populationFunnel(kind, code, gap), `${kind}:${code}:${gap}`);
  const { pathname, search } = useLocation();
  const choose = (id: string) => {
    const next = new URLSearchParams(search);
    next.set('gap', id);
    navigate(`${pathname}?${next}`, { replace: true });
  };
  return (
    <section aria-labelledby="funnel-heading" data-testid="funnel">
      <h2 id="funnel-heading">Practices compared: funnel plot</h2>
      <SelectField id="funnel-gap" label="Care gap" value={gap} onChange={choose} options={gaps.map((g) => ({ value: g.id, label: g.name }))} />
      {funnel.state === 'loading' && <Loading what="the funnel plot" />}
      {funnel.state === 'failed' && <LoadFailed error={funnel.error} what="Funnel plot" retry={funnel.reload} />}
      {funnel.state === 'ready' && <FunnelPlot funnel={funnel.data} />}
    </section>
  );
}

const POSITION_WORDS = { within: 'Within the 95% limits', warning: 'Between the 95% and 99.8% limits', alarm: 'Beyond the 99.8% limits' } as const;

function FunnelPlot({ funnel }: { funnel: Funnel }) {
  const id = useId();
  const [width, height, left, bottom, top, right] = [480, 260, 46, 34, 10, 16];
  const maxN = Math.max(1, ...funnel.limits.map((l) => l.denominator));
  const x = (n: number) => left + (n / maxN) * (width - left - right);
  const y = (rate: number) => top + (1 - rate) * (height - top - bottom);
  const line = (pick: (l: Funnel['limits'][number]) => number) => funnel.limits.map((l) => `${x(l.denominator).toFixed(1)},${y(pick(l)).toFixed(1)}`).join(' ');
  const shown = funnel.points.filter((p) => p.rate !== null && p.denominator !== null);
  return (
    <>
      <svg className="pcn-dashboard__chart" viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${id}-title`} aria-describedby={`${id}-desc`}>
        <title id={`${id}-title`}>{`Funnel plot: ${funnel.gap.name}`}</title>
        <desc id={`${id}-desc`}>
          {funnel.centre === null
            ? 'No practice has patients this gap applies to.'
            : `Overall rate ${percent.format(funnel.centre)}. ${shown.map((p) => `${p.name}: ${shownRate(p.rate)} of ${p.denominator}, ${POSITION_WORDS[p.position ?? 'within'].toLowerCase()}`).join('; ')}.`}
        </desc>
        {[0, 0.5, 1].map((tick) => (
          <text key={tick} x={left - 6} y={y(tick)} dy="0.32em" textAnchor="end" className="pcn-trend__tick">
            {percent.format(tick)}
          </text>
        ))}
        <text x={width - right} y={height - 8} textAnchor="end" className="pcn-trend__tick">
          {`${formatCount(maxN)} patients`}
        </text>
        {funnel.centre !== null && (
          <>
            <line x1={left} x2={width - right} y1={y(funnel.centre)} y2={y(funnel.centre)} stroke="#425563" strokeWidth={2} />
            <polyline points={line((l) => l.inner.upper)} fill="none" stroke="#005eb8" strokeDasharray="6 4" />
            <polyline points={line((l) => l.inner.lower)} fill="none" stroke="#005eb8" strokeDasharray="6 4" />
            <polyline points={line((l) => l.outer.upper)} fill="none" stroke="#7c2855" strokeDasharray="2 3" />
            <polyline points={line((l) => l.outer.lower)} fill="none" stroke="#7c2855" strokeDasharray="2 3" />
          </>
        )}
        {shown.map((p) => (
          <circle key={p.code} cx={x(p.denominator!)} cy={y(p.rate!)} r={5} fill={p.position === 'within' ? '#005eb8' : '#d5281b'} stroke="#ffffff" />
        ))}
      </svg>
      <p className="nhsuk-body-s">Limits: the normal approximation to the binomial around the overall rate, 95% (dashed) and 99.8% (dotted).</p>
      <TableRegion label="Funnel plot points">
        <table className="nhsuk-table">
          <caption className="nhsuk-table__caption">{funnel.gap.name}: each practice</caption>
          <TableHead headings={['Practice', { text: 'Applies to', numeric: true }, { text: 'Rate', numeric: true }, 'Against the overall rate']} />
          <tbody className="nhsuk-table__body">
            {funnel.points.map((p) => (
              <tr className="nhsuk-table__row" key={p.code}>
                <th scope="row" className="nhsuk-table__cell">
                  {p.name}
                </th>
                <td className="nhsuk-table__cell nhsuk-table__cell--numeric">{shownCount(p.denominator)}</td>
                <td className="nhsuk-table__cell nhsuk-table__cell--numeric">{shownRate(p.rate)}</td>
                <td className="nhsuk-table__cell">{p.position ? POSITION_WORDS[p.position] : 'Not shown'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableRegion>
    </>
  );
}

function Ranking({ dashboard, rank }: { dashboard: Dashboard; rank: string | undefined }) {
  const { pathname } = useLocation();
  const options = [
    ['smr', 'Medication review priority per 1,000 patients'],
    ...BANDS.slice(0, 2).map(([band, label]) => [`frailty:${band}`, `${label} (share of 65 and over)`]),
    ...dashboard.total.gaps.map((g) => [`gap:${g.id}`, g.name]),
  ];
  return (
    <section aria-labelledby="ranking-heading" data-testid="ranking">
      <h2 id="ranking-heading">PCNs ranked</h2>
      <SelectField
        id="rank-by"
        label="Rank by"
        value={rank ?? ''}
        onChange={(value) => navigate(value ? `${pathname}?rank=${encodeURIComponent(value)}` : pathname)}
        options={[{ value: '', label: 'PCN code' }, ...options.map(([value, label]) => ({ value: value!, label: label! }))]}
      />
      <UnitsTable dashboard={dashboard} ranked={rank !== undefined} />
    </section>
  );
}

function UnitsTable({ dashboard, ranked }: { dashboard: Dashboard; ranked: boolean }) {
  const kind: DashboardKind = dashboard.scope.kind === 'area' ? 'pcn' : 'practice';
  return (
    <TableRegion label={kind === 'pcn' ? 'PCNs' : 'Practices'}>
      <table className="nhsuk-table">
        <caption className="nhsuk-table__caption">{kind === 'pcn' ? 'Each PCN' : 'Each practice'}</caption>
        <TableHead
          headings={[
            ...(ranked ? [{ text: 'Rank', numeric: true as const }] : []),
            kind === 'pcn' ? 'PCN' : 'Practice',
            { text: 'Patients', numeric: true },
            { text: 'Aged 65+', numeric: true },
            { text: 'Severe frailty', numeric: true },
            { text: 'Review priority', numeric: true },
          ]}
        />
        <tbody className="nhsuk-table__body">
          {dashboard.units.map((u, i) => (
            <tr className="nhsuk-table__row" key={u.code}>
              {ranked && <td className="nhsuk-table__cell nhsuk-table__cell--numeric">{i + 1}</td>}
              <th scope="row" className="nhsuk-table__cell">
                <Link href={dashboardPath(kind, u.code)}>{u.name}</Link>
              </th>
              <CountCells counts={[u.patients, u.frailty.aged65, u.frailty.severe, u.smr.priority]} />
            </tr>
          ))}
        </tbody>
      </table>
    </TableRegion>
  );
}

function TrendSection({ kind, code }: { kind: DashboardKind; code: string }) {
  const trends = useResource(() => api.populationTrends(kind, code), `${kind}:${code}`);
  return (
    <section aria-labelledby="trend-heading" data-testid="trend">
      <h2 id="trend-heading">Month by month</h2>
      {trends.state === 'loading' && <Loading what="the monthly trend" />}
      {trends.state === 'failed' && <LoadFailed error={trends.error} what="Monthly trend" retry={trends.reload} />}
      {trends.state === 'ready' && <MonthlyTrend trends={trends.data} />}
    </section>
  );
}

function MonthlyTrend({ trends }: { trends: Trends }) {
  if (trends.months.length === 0) return <p className="nhsuk-body">No month has been recorded yet: each population run records its month.</p>;
  const readings = (pick: (f: UnitFigures) => number | null) =>
    trends.months.flatMap((m) => {
      const value = pick(m.figures);
      return value === null ? [] : [{ date: `${m.month}-01`, value }];
    });
  return (
    <TrendChart
      trend={{
        kind: 'population',
        title: 'Severe frailty and medication review priority',
        noun: 'monthly',
        unit: 'patients',
        series: [
          { name: 'Severe frailty', readings: readings((f) => f.frailty.severe) },
          { name: 'Review priority', readings: readings((f) => f.smr.priority) },
        ],
      }}
    />
  );
}
