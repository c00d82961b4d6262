import { SingleBar, Presets } from 'cli-progress';

/** A progress bar on stderr for long work (drawn only on a terminal, so scripts and CI logs stay clean). */
export function progressBar(label: string) {
  const bar = new SingleBar({ format: `${label} [{bar}] {percentage}% | {value}/{total}`, stream: process.stderr, hideCursor: true }, Presets.shades_classic);
  let started = false;
  return {
    update(done: number, total: number) {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.setTotal(total);
      bar.update(done);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
