/** Population health's browser-safe constants and guards (no server code): the web app imports them directly. */
import type { Refusal } from './results.ts';

/** The system of the method coding on the RiskAssessments this module writes: the population model that made them. */
export const POPULATION_MODEL_SYSTEM = 'https://pcn-hub.example/CodeSystem/population-model';

/** A rule's answer that was withheld (a Refusal) rather than given: the one test every reader of a result uses. */
export const isRefusal = (finding: object | null): finding is Refusal => finding !== null && 'refused' in finding && finding.refused === true;
