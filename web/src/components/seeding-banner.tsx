/** While a first start is still adding the demo population, says how far it has got (from /healthz), until it is done. */
import { useEffect, useState } from 'react';
import { api } from '../api.ts';
import { formatCount } from '../format.ts';

const POLL_MS = 3000;

export function SeedingBanner() {
  const [progress, setProgress] = useState<{ patients: number; of: number } | null>(null);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      const seeding = await api.health().then(
        (health) => health.demoSeeding ?? null,
        () => null,
      );
      if (stopped) return;
      setProgress(seeding);
      if (seeding) timer = setTimeout(poll, POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);
  if (!progress) return null;
  return (
    <div className="nhsuk-inset-text" role="status">
      <span className="nhsuk-u-visually-hidden">Information: </span>
      <p>
        The demo population is still being added: {formatCount(progress.patients)} of {formatCount(progress.of)} patients so far. Patient searches, lists and counts fill in as it goes.
      </p>
    </div>
  );
}
