/** JSON.parse that drops `__proto__` and `constructor` keys, so hostile input cannot reach prototypes. */
export function parseJsonSafely(text: string): unknown {
  return JSON.parse(text, (key, value: unknown) => (key === '__proto__' || key === 'constructor' ? undefined : value));
}
