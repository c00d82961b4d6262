/**
 * What a /fhir request does, in SMART scope terms, so that a backend client is held to its scopes: each
 * (resource type, interaction) the request would perform must be allowed by one of the token's scopes.
 * Requests reaching every type ($everything, $export, history of everything) need a `system/*` scope.
 */
import type { FastifyRequest } from 'fastify';
import { assertScopeAllows, type Actor, type Interaction } from '../../modules/access/index.ts';

interface Need {
  type: string;
  interaction: Interaction;
}

/** Throws a 403 naming the scope needed when a client's scopes do not cover this request. People are not held to scopes. */
export function assertClientScopes(actor: Actor | undefined, request: FastifyRequest, path: string): void {
  if (actor?.kind !== 'client') return;
  for (const need of needsOf(request.method, path, request.body)) assertScopeAllows(actor.scopes ?? [], need.type, need.interaction);
}

/** `path` is the part after /fhir/, without the query. */
export function needsOf(method: string, path: string, body: unknown): Need[] {
  const segments = path.split('/').filter(Boolean);
  if (segments.length === 0 && method === 'POST') return bundleNeeds(body);
  // A BaRS referral message creates (or cancels) a referral: its ServiceRequest and workflow Task; exporting one reads them.
  if (path === '$process-message')
    return ['ServiceRequest', 'Task'].flatMap((type) => [
      { type, interaction: 'c' as const },
      { type, interaction: 'u' as const },
    ]);
  if (/^ServiceRequest\/[^/]+\/\$bars-message$/.test(path))
    return [
      { type: 'ServiceRequest', interaction: 'r' },
      { type: 'Task', interaction: 'r' },
    ];
  if (segments.some((s) => s.startsWith('$'))) return [{ type: '*', interaction: method === 'GET' ? 'r' : 'c' }];
  const [type = '*', id] = segments;
  const read = method === 'GET' || method === 'HEAD';
  if (segments.length === 0) return [{ type: '*', interaction: read ? 's' : 'c' }];
  if (id === '_search' || (id === undefined && read)) return [{ type, interaction: 's' }];
  if (id === '_history') return [{ type, interaction: 'r' }];
  if (read) return [{ type, interaction: 'r' }]; // read, vread, instance history
  if (method === 'POST') return [{ type, interaction: 'c' }];
  if (method === 'DELETE') return [{ type, interaction: 'd' }];
  return [{ type, interaction: 'u' }]; // PUT, PATCH (a conditional PUT may create: 'u' is the stricter letter asked of a writer)
}

/** A batch or transaction Bundle needs what each of its entries needs. */
function bundleNeeds(body: unknown): Need[] {
  const entries = (body as { entry?: { request?: { method?: string; url?: string } }[] } | undefined)?.entry;
  if (!Array.isArray(entries)) return [{ type: '*', interaction: 'c' }];
  return entries.flatMap((entry) => {
    const method = entry?.request?.method?.toUpperCase();
    const url = entry?.request?.url;
    if (!method || typeof url !== 'string') return [{ type: '*', interaction: 'c' as const }];
    return needsOf(method, url.split('?', 1)[0]!, undefined);
  });
}
