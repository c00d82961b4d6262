/**
 * The signed-in user, kept in localStorage so a reload stays signed in. React reads it through
 * `useSession` (useSyncExternalStore), so signing in or out re-renders the header at once.
 */
import { useSyncExternalStore } from 'react';
import type { User } from './api.ts';

const TOKEN_KEY = 'pcn.token';
const USER_KEY = 'pcn.user';
/** When the person last did something, in any tab (idle.ts signs them out after too long). */
export const ACTIVE_KEY = 'pcn.active';

const listeners = new Set<() => void>();
let cachedRaw: string | null | undefined;
let cachedUser: User | null = null;

export function getToken(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

function readUser(): User | null {
  const raw = getToken() ? localStorage.getItem(USER_KEY) : null;
  if (raw === cachedRaw) return cachedUser;
  cachedRaw = raw;
  try {
    cachedUser = raw ? (JSON.parse(raw) as User) : null;
  } catch {
    cachedUser = null;
  }
  return cachedUser;
}

function notify(): void {
  for (const listener of listeners) listener();
}

export function startSession(token: string, user: User): void {
  localStorage.setItem(ACTIVE_KEY, String(Date.now())); // idle.ts counts from the sign-in
  localStorage.setItem(TOKEN_KEY, token);
  localStorage.setItem(USER_KEY, JSON.stringify(user));
  notify();
}

export function clearSession(): void {
  localStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(USER_KEY);
  notify();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener('storage', listener); // signing out in another tab
  return () => {
    listeners.delete(listener);
    window.removeEventListener('storage', listener);
  };
}

export function useSession(): User | null {
  return useSyncExternalStore(subscribe, readUser, () => null);
}

/** The PCN a pcn-manager looks after: their pcnCode, or their organisation when that is a PCN code. */
export function managedPcn(user: User): string | null {
  if (user.pcnCode) return user.pcnCode;
  return user.org && /^U\d{5}$/.test(user.org) ? user.org : null;
}

/** Mirrors the server's rule so the UI only offers changes the user may make (the server still decides). */
export function canChangePcn(user: User | null, pcnCode: string | null | undefined): boolean {
  if (!user) return false;
  if (user.role === 'admin') return true;
  return user.role === 'pcn-manager' && pcnCode != null && managedPcn(user) === pcnCode;
}

/** The server lets admins and PCN managers (setting up a new network) create PCNs. */
export const canCreatePcn = (user: User | null): boolean => user?.role === 'admin' || user?.role === 'pcn-manager';
