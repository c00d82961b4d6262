/**
 * The break-glass reason a clinician gave from search for one patient, so that their record opens with it
 * (and says so) without asking again. Memory only: a reload forgets it; the grant itself stays on the server.
 */
let remembered: { reason: string; patientId: string | null } = { reason: '', patientId: null };

export function rememberBreakGlassReason(reason: string, patientId: string | null = null): void {
  remembered = { reason, patientId };
}

/** The reason last given, offered again (never sent silently) on a record that still asks for one. */
export const rememberedBreakGlassReason = (): string => remembered.reason;

/** The reason given for this very patient's record from search, if any: the glass is already broken. */
export const reasonGivenFor = (patientId: string): string | null => (remembered.patientId === patientId && remembered.reason ? remembered.reason : null);
