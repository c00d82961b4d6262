/**
 * Which searches this server answers: per parameter type, the modifiers and (for the ordered types) the
 * value prefixes. The store's search → SQL answers exactly these and refuses the rest with a 400
 * not-supported; the CapabilityStatement documents the same list.
 */

const ORDERED_PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'];

/**
 * `[type]` is a reference's target type (`subject:Patient`). sa and eb are defined by R4 as relations
 * between ranges; a number or quantity here is one stored value, so they are refused rather than guessed.
 */
export const ANSWERED: Record<string, { modifiers: string[]; prefixes?: string[] }> = {
  string: { modifiers: ['exact', 'contains', 'missing'] },
  token: { modifiers: ['text', 'not', 'missing'] },
  uri: { modifiers: ['below', 'above', 'missing'] },
  reference: { modifiers: ['[type]', 'identifier', 'missing'] },
  date: { modifiers: ['missing'], prefixes: ORDERED_PREFIXES },
  number: { modifiers: ['missing'], prefixes: ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'ap'] },
  quantity: { modifiers: ['missing'], prefixes: ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'ap'] },
};

export const ALL_PREFIXES = ORDERED_PREFIXES;

/** Parameters R4 defines for every resource that this server does not index, so does not search. */
export const NOT_SEARCHED = new Set(['_profile', '_source', '_text', '_content', '_list', '_has', '_query', '_filter', '_type', '_compartment']);

/** What a client is told about one parameter type in the CapabilityStatement. */
export function searchDocumentation(type: string): string | undefined {
  const answered = ANSWERED[type];
  if (!answered) return undefined;
  const modifiers = `Modifiers: ${answered.modifiers.map((m) => `:${m}`).join(', ')}.`;
  const prefixes = answered.prefixes ? ` Prefixes: ${answered.prefixes.join(', ')}.` : '';
  const notes: Record<string, string> = {
    token: ' :text matches the start of CodeableConcept.text, Coding.display or Identifier.type.text, ignoring case and accents.',
    quantity:
      ' A value stands for the range its precision implies (5.4 = [5.35, 5.45)); ap is within 10%. UCUM units of mass, volume, amount, length, time and pressure (and one quotient of two, e.g. mg/dL) compare converted; other units by code.',
    number: ' A value stands for the range its precision implies (5.4 = [5.35, 5.45)); ap is within 10%.',
    date: ' ap is within 10% of the time between now and the date (at least a day) either side.',
    uri: ' :below and :above compare whole path segments.',
  };
  return `${modifiers}${prefixes}${notes[type] ?? ''}`;
}
