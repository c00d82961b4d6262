/**
 * What a signed-in request's checks cost: N reads of one Patient through the real app (inject, no
 * ports) with one bearer token, on the engine PCN_TEST_ENGINE selects. Prints reads a second.
 *   PCN_TEST_ENGINE=pglite node --import tsx bench/auth-reads.ts [reads]
 */
import { apiHarness } from '../test/api.ts';

const reads = Number(process.argv[2] ?? 2000);
const h = await apiHarness();
try {
  const auth = await h.signIn('admin@pcn-hub.example');
  const created = await h.app.inject({
    method: 'POST',
    url: '/fhir/Patient',
    headers: { authorization: auth, 'content-type': 'application/fhir+json' },
    payload: { resourceType: 'Patient', name: [{ family: 'Bench', given: ['Auth'] }], gender: 'unknown' },
  });
  if (created.statusCode !== 201) throw new Error(`create failed: ${created.statusCode} ${created.body}`);
  const id = created.json<{ id: string }>().id;
  const read = async () => {
    const response = await h.app.inject({ method: 'GET', url: `/fhir/Patient/${id}`, headers: { authorization: auth } });
    if (response.statusCode !== 200) throw new Error(`read failed: ${response.statusCode} ${response.body}`);
  };
  for (let i = 0; i < 200; i++) await read(); // warm up
  const started = performance.now();
  for (let i = 0; i < reads; i++) await read();
  const seconds = (performance.now() - started) / 1000;
  console.log(`${h.db.engine}: ${reads} reads in ${seconds.toFixed(2)} s = ${Math.round(reads / seconds)} reads/s (${((seconds * 1000) / reads).toFixed(3)} ms each)`);
} finally {
  await h.close();
}
