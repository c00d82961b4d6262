/**
 * The break-glass reason a clinician gave for an emergency search, offered again (never sent
 * silently) when they open a record from its results. Memory only: a reload forgets it.
 */
let remembered = '';

export function rememberBreakGlassReason(reason: string): void {
  remembered = reason;
}

export const rememberedBreakGlassReason = (): string => remembered;
