/** Population health's browser-safe constants (no server code): the web app imports them directly. */

/** The system of the method coding on the RiskAssessments this module writes: the population model that made them. */
export const POPULATION_MODEL_SYSTEM = 'https://pcn-hub.example/CodeSystem/population-model';
