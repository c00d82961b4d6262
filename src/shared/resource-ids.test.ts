import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newResourceId } from './resource-ids.ts';

test('server-given ids are unique UUIDs that sort in the order they were made, even within one millisecond', () => {
  const ids = Array.from({ length: 10_000 }, () => newResourceId());
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.deepEqual([...ids].sort(), ids);
});
