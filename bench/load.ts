/**
 * HTTP load for the benches, and what driving it cost. The load generator shares this machine's two cores with
 * the server and the database, so its own CPU is part of what a bench measures: wrk (C, Debian's `wrk` package,
 * `scripts/ensure-wrk.sh`) takes a fraction of what autocannon (JavaScript, in the bench's own process) takes for
 * the same requests. wrk is used where it is installed; `BENCH_LOAD=autocannon` uses autocannon instead, to
 * compare. Either way the result says which ran and how many CPU-seconds it used.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  headers: Record<string, string>;
  method?: 'GET' | 'POST';
  /** Request paths, used in turn; one path serves every request when there is one. */
  paths: string[];
  /** Request bodies, used in turn beside the paths. */
  bodies?: string[];
}

export interface LoadResult {
  /** Completed requests a second. */
  rate: number;
  p95: number;
  non2xx: number;
  /** Which generator ran, and the CPU-seconds it used per 1,000 requests. */
  generator: 'wrk' | 'autocannon';
  generatorCpuPer1000: number;
}

const WRK = '/usr/bin/wrk';
export const loadGenerator = (): 'wrk' | 'autocannon' => (process.env.BENCH_LOAD !== 'autocannon' && existsSync(WRK) ? 'wrk' : 'autocannon');

export async function httpLoad(options: LoadOptions): Promise<LoadResult> {
  return loadGenerator() === 'wrk' ? wrkLoad(options) : autocannonLoad(options);
}

async function autocannonLoad({ url, connections, seconds, headers, method = 'GET', paths, bodies }: LoadOptions): Promise<LoadResult> {
  let n = 0;
  const before = process.cpuUsage();
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    headers,
    requests: [
      {
        method,
        setupRequest: (req) => {
          const i = n++;
          return { ...req, path: paths[i % paths.length]!, body: bodies?.[i % bodies.length] };
        },
      },
    ],
  });
  const cpu = process.cpuUsage(before);
  const { p90, p97_5 } = result.latency;
  return {
    rate: result.requests.average,
    // autocannon reports p90 and p97.5, not p95: interpolated between them.
    p95: p90 + (p97_5 - p90) * ((95 - 90) / (97.5 - 90)),
    non2xx: result.non2xx + result.errors,
    generator: 'autocannon',
    generatorCpuPer1000: (cpu.user + cpu.system) / 1e6 / (result.requests.total / 1000),
  };
}

/** Lua string literals for wrk's script: the paths and bodies are ASCII JSON, whose escapes Lua reads alike. */
const lua = (text: string) => JSON.stringify(text);

async function wrkLoad({ url, connections, seconds, headers, method = 'GET', paths, bodies }: LoadOptions): Promise<LoadResult> {
  const dir = await mkdtemp(join(tmpdir(), 'pcn-wrk-'));
  try {
    const script = join(dir, 'load.lua');
    await writeFile(
      script,
      [
        `local paths = {${paths.map(lua).join(',')}}`,
        'local n = 0',
        ...Object.entries(headers).map(([name, value]) => `wrk.headers[${lua(name)}] = ${lua(value)}`),
        `local bodies = {${(bodies ?? []).map(lua).join(',')}}`,
        'request = function()',
        '  n = n + 1',
        `  return wrk.format(${lua(method)}, paths[(n % #paths) + 1], nil, #bodies > 0 and bodies[(n % #bodies) + 1] or nil)`,
        'end',
        'done = function(summary, latency, requests)',
        '  local e = summary.errors',
        '  io.write(string.format("PCN_LOAD %d %d %d %.3f\\n", summary.requests, summary.duration, e.status + e.connect + e.read + e.write + e.timeout, latency:percentile(95) / 1000))',
        'end',
      ].join('\n'),
    );
    // `times` after wrk prints the shell's children's CPU: wrk's own user and system time.
    const command = `${WRK} -t1 -c${connections} -d${seconds}s --timeout 10s -s '${script}' '${url}' && times`;
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile('/bin/sh', ['-c', command], { maxBuffer: 1 << 20 }, (error, out, err) => (error ? reject(new Error(`wrk: ${err || error.message}`)) : resolve(out))),
    );
    const summary = /PCN_LOAD (\d+) (\d+) (\d+) ([\d.]+)/.exec(stdout);
    if (!summary) throw new Error(`wrk printed no summary: ${stdout.slice(0, 300)}`);
    const [requests, micros, errors, p95] = summary.slice(1).map(Number) as [number, number, number, number];
    const lastLine = stdout.trim().split('\n').at(-1) ?? '';
    const cpu = [...lastLine.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, [, m, s]) => sum + Number(m) * 60 + Number(s), 0);
    return { rate: requests / (micros / 1e6), p95, non2xx: errors, generator: 'wrk', generatorCpuPer1000: cpu / (requests / 1000) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
