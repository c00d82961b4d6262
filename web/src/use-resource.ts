import { useCallback, useEffect, useState } from 'react';

export type Resource<T> = { state: 'loading'; reload: () => void } | { state: 'failed'; error: Error; reload: () => void } | { state: 'ready'; data: T; reload: () => Promise<void> };

type Outcome<T> = { key: string; ok: true; data: T } | { key: string; ok: false; error: Error };

const asError = (caught: unknown): Error => (caught instanceof Error ? caught : new Error(String(caught)));

/**
 * Loads what a page shows and reloads it on demand (after a change), keeping the old data on
 * screen while the new arrives so the page does not flash. A changed `key` starts afresh.
 */
export function useResource<T>(load: () => Promise<T>, key: string): Resource<T> {
  const [outcome, setOutcome] = useState<Outcome<T> | null>(null);
  const [attempt, setAttempt] = useState(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `load` is a fresh closure each render; `key` (and a retry) say when it means something new
  useEffect(() => {
    let live = true;
    load().then(
      (data) => live && setOutcome({ key, ok: true, data }),
      (caught: unknown) => live && setOutcome({ key, ok: false, error: asError(caught) }),
    );
    return () => {
      live = false;
    };
  }, [key, attempt]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: as above, `key` says when `load` means something new
  const reload = useCallback(async () => {
    try {
      setOutcome({ key, ok: true, data: await load() });
    } catch (caught) {
      setOutcome({ key, ok: false, error: asError(caught) });
    }
  }, [key]);
  const retry = useCallback(() => setAttempt((n) => n + 1), []);

  if (!outcome || outcome.key !== key) return { state: 'loading', reload: retry };
  if (!outcome.ok) return { state: 'failed', error: outcome.error, reload: retry };
  return { state: 'ready', data: outcome.data, reload };
}

/** Sets the browser tab's title, which screen readers announce on each page. */
export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} – PCN Hub`;
  }, [title]);
}
