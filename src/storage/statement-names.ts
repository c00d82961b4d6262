/**
 * Statements the server keeps parsed and planned (both engines: pg.ts, pglite.ts). A SQL text met a second time
 * gets a name, and each connection prepares a named text once (the driver remembers which it has) and from then on only binds
 * and executes it. The access-checked read and search statements cost ~5× more to plan than to run
 * (an identifier search at 1M patients: 0.65 ms planning, 0.18 ms execution; one connection sending it
 * 1,500 times: ~2 ms a round trip unnamed, 0.2–0.6 ms named). PostgreSQL keeps replanning a named
 * statement for its values while a generic plan would cost more (plan_cache_mode auto), so a prefix
 * search still gets its index range. Only statements with parameters are named. Bounded: at most MAX_NAMED texts per pool are named, and a name is
 * never given to another text (the driver refuses that); the rest go unnamed, as before.
 */
export class StatementNames {
  private readonly named = new Map<string, string>();
  private readonly seenOnce = new Set<string>();
  nameFor(sql: string): string | undefined {
    const name = this.named.get(sql);
    if (name !== undefined || this.named.size >= MAX_NAMED) return name;
    if (!this.seenOnce.has(sql)) {
      if (this.seenOnce.size >= MAX_SEEN_ONCE) this.seenOnce.clear();
      this.seenOnce.add(sql);
      return undefined;
    }
    this.seenOnce.delete(sql);
    const fresh = `pcn_${this.named.size + 1}`;
    this.named.set(sql, fresh);
    return fresh;
  }
}
const MAX_NAMED = 200;
const MAX_SEEN_ONCE = 5000;
