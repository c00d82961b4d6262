/**
 * Signs a person out after the configured minutes without activity (a shared computer in a consulting room
 * must not stay open on a patient's record). Activity in any tab counts: the last moment is kept in
 * localStorage. The server refuses the token from then on (POST /api/logout).
 */
import { useEffect } from 'react';
import { api } from './api.ts';
import { navigate } from './router.tsx';
import { ACTIVE_KEY, clearSession, getToken } from './session.ts';

const ACTIVITY = ['pointerdown', 'keydown', 'wheel', 'touchstart'] as const;

const lastActive = () => Number(localStorage.getItem(ACTIVE_KEY) ?? Date.now());
const markActive = () => localStorage.setItem(ACTIVE_KEY, String(Date.now()));

export function useIdleSignOut(signedIn: boolean): void {
  useEffect(() => {
    if (!signedIn) return;
    let timer: ReturnType<typeof setInterval> | undefined;
    let live = true;
    // Not marked active here: a reload after a long absence must still sign out (startSession marks a sign-in).
    for (const event of ACTIVITY) window.addEventListener(event, markActive, { passive: true });
    void api
      .config()
      .then(({ idleSignOutMinutes }) => {
        if (!live || !idleSignOutMinutes) return;
        const limitMs = idleSignOutMinutes * 60_000;
        timer = setInterval(
          () => {
            if (!getToken() || Date.now() - lastActive() < limitMs) return;
            void api.logout().catch(() => undefined);
            clearSession();
            navigate(`/signin?idle=${encodeURIComponent(String(idleSignOutMinutes))}`, { replace: true });
          },
          Math.min(15_000, Math.max(500, limitMs / 4)),
        );
      })
      .catch(() => undefined);
    return () => {
      live = false;
      clearInterval(timer);
      for (const event of ACTIVITY) window.removeEventListener(event, markActive);
    };
  }, [signedIn]);
}
