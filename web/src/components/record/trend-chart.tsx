/**
 * A small line chart drawn as inline SVG (no chart library): one line per series over time, each
 * with its own colour, dash and marker shape so it reads without colour. The SVG is an image with a
 * text summary; the readings themselves are in a table under "Show the readings".
 */
import { useId } from 'react';
import { formatDate } from '../../format.ts';
import { TableHead, TableRegion } from '../page-parts.tsx';
import type { Reading, Trend } from './entries.ts';

// About the size it is drawn at in half the page, so its 14px labels stay about 14px on screen.
const WIDTH = 480;
const HEIGHT = 240;
const MARGIN = { top: 14, right: 18, bottom: 34, left: 46 };
const STYLES = [
  { colour: '#005eb8', dash: undefined, marker: 'circle' },
  { colour: '#7c2855', dash: '6 4', marker: 'square' },
] as const;

const number = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 1 });
const time = (iso: string) => new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso).getTime();

/** Round-number ticks covering [min, max]: 4 or 5 steps of 1, 2, 2.5 or 5 × 10^n. */
export function niceTicks(min: number, max: number): number[] {
  if (min === max) {
    const pad = Math.abs(min) * 0.1 || 1;
    return niceTicks(min - pad, max + pad);
  }
  const rough = (max - min) / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? rough;
  const ticks: number[] = [];
  for (let t = Math.floor(min / step) * step; t <= max + step * 1e-9 || ticks.length < 2; t += step) ticks.push(Number(t.toFixed(6)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks[ticks.length - 1]! + step).toFixed(6)));
  return ticks;
}

/** "Systolic: 6 readings from 1 March 2023 to 2 May 2025; lowest 128, highest 162, latest 138 mmHg." */
export function describeSeries(name: string, readings: Reading[], unit: string): string {
  if (readings.length === 0) return `${name}: no readings.`;
  const values = readings.map((r) => r.value);
  const latest = readings[readings.length - 1]!;
  if (readings.length === 1) return `${name}: 1 reading, ${number.format(latest.value)} ${unit} on ${formatDate(latest.date)}.`;
  const first = readings[0]!;
  const direction = latest.value > first.value ? 'up' : latest.value < first.value ? 'down' : 'unchanged';
  return (
    `${name}: ${readings.length} readings from ${formatDate(first.date)} to ${formatDate(latest.date)}; ` +
    `lowest ${number.format(Math.min(...values))}, highest ${number.format(Math.max(...values))}, ` +
    `latest ${number.format(latest.value)} ${unit} (${direction} from ${number.format(first.value)}).`
  );
}

function Marker({ shape, x, y, colour }: { shape: string; x: number; y: number; colour: string }) {
  return shape === 'square' ? (
    <rect x={x - 4} y={y - 4} width={8} height={8} fill="#ffffff" stroke={colour} strokeWidth={2} />
  ) : (
    <circle cx={x} cy={y} r={4.5} fill={colour} stroke="#ffffff" strokeWidth={1.5} />
  );
}

export function TrendChart({ trend }: { trend: Omit<Trend, 'kind'> & { kind: string } }) {
  const id = useId();
  const all = trend.series.flatMap((s) => s.readings);
  const times = all.map((r) => time(r.date));
  const values = all.map((r) => r.value);
  const ticks = niceTicks(Math.min(...values), Math.max(...values));
  const [yMin, yMax] = [ticks[0]!, ticks[ticks.length - 1]!];
  const [tMin, tMax] = [Math.min(...times), Math.max(...times)];
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (iso: string) => MARGIN.left + (tMax === tMin ? plotW / 2 : ((time(iso) - tMin) / (tMax - tMin)) * plotW);
  const y = (value: number) => MARGIN.top + (1 - (value - yMin) / (yMax - yMin)) * plotH;
  const firstDate = all.reduce((a, b) => (time(a.date) <= time(b.date) ? a : b)).date;
  const lastDate = all.reduce((a, b) => (time(a.date) >= time(b.date) ? a : b)).date;
  const description = trend.series.map((s) => describeSeries(s.name, s.readings, trend.unit)).join(' ');

  return (
    <figure className="pcn-trend" data-trend={trend.kind}>
      <svg className="pcn-trend__chart" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby={`${id}-title`} aria-describedby={`${id}-summary`} preserveAspectRatio="xMidYMid meet">
        <title id={`${id}-title`}>{`${trend.title} (${trend.unit}) over time`}</title>
        {ticks.map((tick) => (
          <g key={tick}>
            <line x1={MARGIN.left} x2={WIDTH - MARGIN.right} y1={y(tick)} y2={y(tick)} stroke="#d8dde0" strokeWidth={1} />
            <text x={MARGIN.left - 8} y={y(tick)} dy="0.32em" textAnchor="end" className="pcn-trend__tick">
              {number.format(tick)}
            </text>
          </g>
        ))}
        <line x1={MARGIN.left} x2={MARGIN.left} y1={MARGIN.top} y2={HEIGHT - MARGIN.bottom} stroke="#768692" />
        <text x={MARGIN.left} y={HEIGHT - 10} textAnchor="start" className="pcn-trend__tick">
          {formatDate(firstDate)}
        </text>
        {lastDate !== firstDate && (
          <text x={WIDTH - MARGIN.right} y={HEIGHT - 10} textAnchor="end" className="pcn-trend__tick">
            {formatDate(lastDate)}
          </text>
        )}
        {trend.series.map((series, i) => {
          const style = STYLES[i % STYLES.length]!;
          const points = series.readings.map((r) => `${x(r.date).toFixed(1)},${y(r.value).toFixed(1)}`).join(' ');
          return (
            <g key={series.name} className="pcn-trend__series" data-series={series.name}>
              {series.readings.length > 1 && <polyline points={points} fill="none" stroke={style.colour} strokeWidth={2.5} strokeDasharray={style.dash} strokeLinejoin="round" />}
              {series.readings.map((r) => (
                <Marker key={`${r.date}-${r.value}`} shape={style.marker} x={x(r.date)} y={y(r.value)} colour={style.colour} />
              ))}
            </g>
          );
        })}
      </svg>
      <figcaption>
        {trend.series.length > 1 && (
          <ul className="pcn-trend__legend" aria-label={`${trend.title} key`}>
            {trend.series.map((series, i) => {
              const style = STYLES[i % STYLES.length]!;
              return (
                <li key={series.name}>
                  <svg width="36" height="12" aria-hidden="true" focusable="false">
                    <line x1="2" x2="34" y1="6" y2="6" stroke={style.colour} strokeWidth={2.5} strokeDasharray={style.dash} />
                    <Marker shape={style.marker} x={18} y={6} colour={style.colour} />
                  </svg>
                  {series.name}
                </li>
              );
            })}
          </ul>
        )}
        <p className="nhsuk-body-s pcn-trend__summary" id={`${id}-summary`}>
          {description}
        </p>
      </figcaption>
      <ReadingsTable trend={trend} />
    </figure>
  );
}

/** The chart's readings as a table, one row per date (BP: systolic and diastolic side by side). */
function ReadingsTable({ trend }: { trend: Omit<Trend, 'kind'> & { kind: string } }) {
  const dates = [...new Set(trend.series.flatMap((s) => s.readings.map((r) => r.date)))].sort((a, b) => time(b) - time(a));
  return (
    <details className="nhsuk-details">
      <summary className="nhsuk-details__summary">
        <span className="nhsuk-details__summary-text">Show the {trend.noun} readings as a table</span>
      </summary>
      <div className="nhsuk-details__text">
        <TableRegion label={`${trend.title} readings, newest first`}>
          <table className="nhsuk-table">
            <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">{trend.title} readings, newest first</caption>
            <TableHead headings={['Date', ...trend.series.map((s) => ({ text: `${s.name} (${trend.unit})`, numeric: true as const }))]} />
            <tbody className="nhsuk-table__body">
              {dates.map((date) => (
                <tr className="nhsuk-table__row" key={date}>
                  <td className="nhsuk-table__cell">{formatDate(date)}</td>
                  {trend.series.map((s) => {
                    const reading = s.readings.find((r) => r.date === date);
                    return (
                      <td className="nhsuk-table__cell nhsuk-table__cell--numeric" key={s.name}>
                        {reading ? number.format(reading.value) : '–'}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </TableRegion>
      </div>
    </details>
  );
}
