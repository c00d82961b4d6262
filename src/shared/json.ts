/**
 * JSON.parse that drops `__proto__` and `constructor` keys, so hostile input cannot reach prototypes. A text that
 * cannot hold such a key (neither word in it, nor an escape that could spell one) is parsed without the reviver,
 * which costs JSON.parse several times over (a call per value).
 */
export function parseJsonSafely(text: string): unknown {
  if (!text.includes('__proto__') && !text.includes('constructor') && !text.includes('\\u')) return JSON.parse(text);
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
