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
