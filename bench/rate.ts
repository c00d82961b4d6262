/** `work` run by `connections` concurrent loops for `seconds`: operations per second (the benches' in-process rate). */
export async function concurrentRate(work: (i: number) => Promise<unknown>, seconds: number, connections = 20): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) await work(done++);
    }),
  );
  return done / seconds;
}

/** `work` run one at a time, `runs` times after `warm` runs not measured: each run's milliseconds, sorted (latency figures). */
export async function sequentialTimes(work: () => Promise<unknown>, runs: number, warm = 1): Promise<number[]> {
  for (let i = 0; i < warm; i++) await work();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}
