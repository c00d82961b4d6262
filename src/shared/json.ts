/** JSON.parse that drops `__proto__` and `constructor` keys, so hostile input cannot reach prototypes. */
export function parseJsonSafely(text: string): unknown {
  return JSON.parse(text, (key, value: unknown) => (key === '__proto__' || key === 'constructor' ? undefined : value));
}

/**
 * JSON documents as ONE SQL text parameter, separated by U+001E (which JSON.stringify never writes: it escapes every
 * control character), read back as text[] by `jsonTextsSql`: a byte scan in the database, where a text[] parameter
 * costs an escaped and quoted array element per document on each side (the driver's, then the database's parser).
 */
export const jsonTexts = (documents: readonly unknown[]): string => documents.map((d) => JSON.stringify(d)).join('\x1e');

/** jsonTexts' parameter (a placeholder, e.g. `$2`) as text[] in SQL: one JSON document an element. */
export const jsonTextsSql = (placeholder: string): string => `string_to_array(${placeholder}::text, chr(30))`;
