/** The validator's tests, in fhir/ and in modules/record/, hand it frozen input. */

/** Frozen, so a validator that wrote to its input would throw (ESM is strict mode). Iterative: some inputs are 10k deep. */
export function deepFreeze<T>(value: T): T {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const next = stack.pop();
    if (typeof next !== 'object' || next === null || Object.isFrozen(next)) continue;
    Object.freeze(next);
    stack.push(...Object.values(next));
  }
  return value;
}
