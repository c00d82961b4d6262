/**
 * What a process remembers of the sign-ins it has checked, and how it learns that they changed. The store
 * notifies every process on commit (migration 064); the process that made a change also forgets at once
 * (forgetSignIn), not when its own notification lands.
 */
import type { Db, Listening } from '../../storage/db.ts';
import type { Actor, Role } from './actor.ts';

/** How long a user's actor (name, PCN) is remembered before it is read again; their PCN may change. */
const REMEMBER_MS = 60_000;
const MAX_REMEMBERED = 10_000;

/**
 * What this process remembers of the sign-ins it has checked: which tokens were not signed out, which users
 * and clients were enabled and as what. The store tells every process when any of that changes (migration
 * 064 notifies on commit), and each notification drops what it names, so a request need not ask the
 * database again. Trusted only while the notifications are live; otherwise (the listening connection is
 * down, or the store cannot listen) every request asks, as it would without this.
 */
export class SignIns {
  /** `validAfter`: a token issued (iat, epoch seconds) before it was signed out by a password reset. */
  private readonly users = new Map<string, { actor: Actor; at: number; validAfter: number | null }>();
  private readonly tokens = new Set<string>();
  private readonly clients = new Map<string, Map<string, Actor>>();
  private listening: Listening | undefined;
  /** Moves on every change heard: a check that began before a change must not be remembered after it. */
  generation = 0;

  constructor(db: Db) {
    void db
      .listen?.('pcn_sign_in_changed', { notify: (payload) => this.forget(payload), lost: () => this.forgetAll() })
      .then((listening) => (this.listening = listening))
      .catch(() => undefined); // not listening: every request asks the database
  }

  private get live(): boolean {
    return this.listening?.live === true;
  }

  /**
   * The actor of a token known good, or undefined when it must be checked. A token remembered from before a
   * password reset is not good even when the user signed in again since (and is remembered afresh).
   */
  knownUser(sub: string, jti: string, iat: number): Actor | undefined {
    if (!this.live || !this.tokens.has(jti)) return undefined;
    if (issuedBefore(iat, this.users.get(sub)?.validAfter ?? null)) return undefined;
    return this.recentActor(sub);
  }

  /** The user's actor as read less than a minute ago, if their role and organisation are still these. */
  recentActor(sub: string, now?: { role: Role; orgCode: string | null }): Actor | undefined {
    const hit = this.users.get(sub);
    if (!hit || Date.now() - hit.at >= REMEMBER_MS) return undefined;
    if (now && (hit.actor.role !== now.role || hit.actor.orgCode !== now.orgCode)) return undefined;
    return hit.actor;
  }

  rememberUser(since: number, jti: string, actor: Actor, read: boolean, validAfter: number | null): void {
    if (since !== this.generation) return;
    if (this.users.size >= MAX_REMEMBERED || this.tokens.size >= MAX_REMEMBERED) this.forgetAll();
    const hit = this.users.get(actor.id);
    if (read || !hit) this.users.set(actor.id, { actor, at: Date.now(), validAfter });
    else hit.validAfter = validAfter;
    this.tokens.add(jti);
  }

  knownClient(id: string, scope: string): Actor | undefined {
    return this.live ? this.clients.get(id)?.get(scope) : undefined;
  }

  rememberClient(since: number, scope: string, actor: Actor): void {
    if (since !== this.generation || !actor.clientId) return;
    if (this.clients.size >= MAX_REMEMBERED) this.forgetAll();
    let scopes = this.clients.get(actor.clientId);
    if (!scopes) this.clients.set(actor.clientId, (scopes = new Map()));
    scopes.set(scope, actor);
  }

  /** `user:<id>`, `token:<jti>` or `client:<id>`: that one is checked afresh on its next request. */
  forget(payload: string): void {
    this.generation++;
    const colon = payload.indexOf(':');
    const kind = payload.slice(0, colon);
    const id = payload.slice(colon + 1);
    if (kind === 'user') this.users.delete(id);
    else if (kind === 'token') this.tokens.delete(id);
    else if (kind === 'client') this.clients.delete(id);
    else this.forgetAll();
  }

  forgetAll(): void {
    this.generation++;
    this.users.clear();
    this.tokens.clear();
    this.clients.clear();
  }
}

/** A token issued (iat, epoch seconds) before its user's sessions were ended by a password reset. */
export const issuedBefore = (iat: number, validAfter: number | null): boolean => validAfter !== null && iat < validAfter;

const signInsByDb = new WeakMap<Db, SignIns>();
/** This process's memory of the sign-ins on a store (the store's root, as the server holds it). */
export function signInsOf(db: Db): SignIns {
  let signIns = signInsByDb.get(db);
  if (!signIns) signInsByDb.set(db, (signIns = new SignIns(db)));
  return signIns;
}

/** After a change this process committed: that user, token or client is checked afresh on its next request. */
export function forgetSignIn(db: Db, kind: 'user' | 'token' | 'client', id: string): void {
  signInsByDb.get(db)?.forget(`${kind}:${id}`);
}
