/**
 * FHIR R4 at /fhir: @medplum/fhir-router over our RecordRepository for REST semantics (CRUD, search,
 * history, PATCH, conditional create/update, batch/transaction), plus type history, Patient/$everything
 * and metadata. This file only translates HTTP ⇄ FhirRequest and answers in OperationOutcome.
 */
import { allOk, badRequest, created, notFound, OperationOutcomeError } from '@medplum/core';
import { FhirRouter, type FhirRequest, type FhirRouteHandler, type HttpMethod } from '@medplum/fhir-router';
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { capabilityStatement, resourceTypes } from '../../fhir/capability.ts';
import { loadFhirDefinitions } from '../../fhir/definitions.ts';
import { AppError } from '../../shared/errors.ts';
import { appErrorOutcome, FhirStoreRepository, notSupported, parseSearch, toOutcomeError, type Touch } from '../../fhir-store/index.ts';
import { breakGlassForNhsNumber, recordContext } from '../../modules/record/index.ts';
import { guardReferralChange } from '../../modules/referrals/index.ts';
import { NHS_NUMBER_SYSTEM } from '../../shared/ids.ts';
import { parseJsonSafely } from '../../shared/json.ts';
import { normalisedPath, requireActor } from '../auth.ts';
import { FHIR_JSON, outcomeInTableWords, outcomeStatus as statusOf, sendFhirError } from '../errors.ts';
import { bulkExportRoutes } from './bulk-export-routes.ts';
import { processMessageRoutes } from './process-message-routes.ts';
import { assertClientScopes } from './client-scopes.ts';
import { clientGone } from '../client-gone.ts';
import { cancelledBy, type Db } from '../../storage/db.ts';
import { VERSION } from '../../version.ts';
import { answerIdempotently, type FhirAnswer } from './idempotency.ts';

export const FHIR_BODY_LIMIT = 16 * 1024 * 1024;
/** Far deeper than any real resource; deeper JSON would exhaust the stack of the recursive code that reads it. */
export const MAX_JSON_DEPTH = 100;

const router = new FhirRouter();
const RESOURCE_TYPES = new Set(resourceTypes());
// Searches (GET [type], POST [type]/_search, and the same inside batches) are read by the store's own
// parser, which keeps the modifiers medplum's parser drops; a system-wide search is not offered.
const searchType: FhirRouteHandler = async (request, repo) => {
  const query = request.method === 'POST' ? (request.body as Record<string, string | string[]>) : request.query;
  return [allOk, await repo.search(parseSearch(request.params.resourceType!, query ?? {}))];
};
for (const route of router.router.routes) {
  if (route.data?.interaction === 'search-type') route.handler = searchType;
  if (route.data?.interaction === 'search-system')
    route.handler = async () => [notSupported('_type', 'search across all resource types is not supported; search one type, e.g. /fhir/Patient?…').outcome];
}

let metadataJson: string | undefined;

/**
 * The definitions load once at start-up (not on the first request), and metadata is serialised once:
 * about a second of work, which buildApp does before load shedding starts to measure the event loop.
 */
export function warmUpFhir(): string {
  loadFhirDefinitions();
  return (metadataJson ??= JSON.stringify(capabilityStatement(VERSION)));
}

export async function fhirRoutes(app: FastifyInstance, options: { db: Db; exportDir: string; breakGlassHours?: number }) {
  const { db } = options;
  // FHIR bodies may be larger than the app API's (transaction bundles); JSON only.
  app.removeAllContentTypeParsers();
  for (const type of ['application/json', 'application/fhir+json', 'application/json-patch+json']) {
    app.addContentTypeParser(type, { parseAs: 'string', bodyLimit: FHIR_BODY_LIMIT }, (_request, body, done) => {
      if ((body as string).trim() === '') return done(null, undefined);
      if (nestsDeeperThan(body as string, MAX_JSON_DEPTH)) return done(new AppError('bad-request', `the body nests objects and arrays more than ${MAX_JSON_DEPTH} deep`), undefined);
      try {
        done(null, parseJsonSafely(body as string));
      } catch {
        done(new AppError('bad-request', 'the body is not valid JSON'), undefined);
      }
    });
  }
  // POST [type]/_search may send its parameters as a form (FHIR RESTful API, search).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FHIR_BODY_LIMIT }, (_request, body, done) => {
    const query = Object.create(null) as Record<string, string | string[]>;
    for (const [key, value] of new URLSearchParams(body as string)) {
      const had = query[key];
      query[key] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value];
    }
    done(null, query);
  });
  // Every error under /fhir (REST, operations, bulk export) is answered from the one table.
  app.setErrorHandler(sendFhirError);
  // A backend client is held to its token's scopes on every /fhir route (bulk export included).
  app.addHook('preHandler', async (request) => assertClientScopes(request.actor, request, fhirUrl(request).split('?', 1)[0]!.replace(/^\//, '')));

  const metadata = warmUpFhir();
  app.get('/metadata', { config: { public: true } }, async (_request, reply) => reply.type(FHIR_JSON).send(metadata));
  await app.register(bulkExportRoutes, { db, exportDir: options.exportDir });
  await app.register(processMessageRoutes, { db });

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const actor = await requireActor(db, request);
    const breakGlass = headerValue(request, 'x-break-glass-reason');
    const baseUrl = `${request.protocol}://${request.host}/fhir`;
    const prefer = headerValue(request, 'prefer') ?? '';
    const context = {
      ...(await recordContext(db, actor, {
        breakGlassReason: breakGlass,
        breakGlassHours: options.breakGlassHours,
        baseUrl,
        lenient: /handling=lenient/.test(prefer),
        request: { method: request.method, url: request.url, id: request.id },
      })),
      // A referral's Task moves only through its use case (or a BaRS message), not by a bare write here.
      guardChange: guardReferralChange,
    };
    const path = fhirUrl(request).split('?')[0]!.replace(/^\//, '');
    // With a reason, a search naming one patient by NHS number opens that one record (and no other).
    const named = breakGlass && request.method === 'GET' && path === 'Patient' ? namedNhsNumber(request.query) : undefined;
    if (named) await breakGlassForNhsNumber(db, context, named);
    const gone = clientGone(reply);
    let touches: Touch[] = [];
    const run = async (tx: Db, auditAtEnd: boolean): Promise<FhirAnswer> => {
      // A client that goes away cancels the queries its request still runs.
      const repo = new FhirStoreRepository(cancelledBy(tx, gone), context, { auditAtEnd });
      touches = repo.touches;
      let result: [OperationOutcome, Resource?];
      try {
        result = await handle(request, repo, path, /handling=lenient/.test(prefer));
      } catch (error) {
        const known = toOutcomeError(error);
        if (!(known instanceof OperationOutcomeError)) throw error;
        result = [known.outcome];
      }
      if (isTransaction(request.body) && statusOf(result[0]) >= 400) result = [atFailedEntry(result[0], request.body, repo.lastWrite)];
      else if (repo.createdByUpdate.size > 0) result = answeredAsCreated(result, repo.createdByUpdate);
      // The request's one audit record, in the transaction that holds all its writes.
      if (auditAtEnd) await repo.auditRequestChanges(tx);
      return answerOf(result, { method: request.method, baseUrl, prefer, ignoredParameters: repo.ignoredParameters });
    };
    let answer: FhirAnswer;
    try {
      // Under an Idempotency-Key the write runs in a transaction that also remembers its answer; a batch's
      // entries run in one transaction too (each still fails alone, as a savepoint), so that the request
      // is ONE audit record written with its changes.
      answer = await answerIdempotently(db, request, actor.id, (tx) => (tx !== db ? run(tx, true) : isBatch(request.body) ? db.transaction((batch) => run(batch, true)) : run(tx, false)));
    } catch (error) {
      // A failure after the request touched the record is still a look (or an attempt) to record.
      await context.audit.looks(db, touches, 'error').catch(() => {});
      throw error;
    }
    // What the request looked at (or was refused), stored before the answer leaves.
    await context.audit.looks(db, touches, answer.status === 403 ? 'denied' : answer.status >= 500 ? 'error' : 'success');
    reply.status(answer.status).headers(answer.headers);
    return answer.body === '' ? reply.send() : reply.send(answer.body);
  };
  app.all('/', handler); // batch and transaction Bundles, system search
  app.all('/*', handler);
}

/**
 * An update that created its resource (update as create: a PUT to an id not yet stored) is answered 201 Created
 * with a Location, as FHIR R4 asks (http.html#update), alone or as an entry of a batch or transaction; the router
 * answers every update 200.
 */
function answeredAsCreated([outcome, resource]: [OperationOutcome, Resource?], createdIds: ReadonlySet<string>): [OperationOutcome, Resource?] {
  if (!resource || statusOf(outcome) !== 200) return [outcome, resource];
  if (resource.resourceType !== 'Bundle') return createdIds.has(`${resource.resourceType}/${resource.id}`) ? [created, resource] : [outcome, resource];
  for (const entry of (resource as Bundle).entry ?? []) {
    const { resource: written, response } = entry;
    if (!written?.id || !response?.status.startsWith('200') || !createdIds.has(`${written.resourceType}/${written.id}`)) continue;
    response.status = '201';
    response.outcome &&= created;
    response.location ??= `${written.resourceType}/${written.id}`;
  }
  return [outcome, resource];
}

/** The one NHS number a Patient search names (`identifier=https://fhir.nhs.uk/Id/nhs-number|NNNNNNNNNN`), if it names exactly one. */
function namedNhsNumber(query: unknown): string | undefined {
  const identifier = (query as Record<string, unknown>).identifier;
  if (typeof identifier !== 'string') return undefined;
  return new RegExp(`^${NHS_NUMBER_SYSTEM.replaceAll('.', '\\.')}\\|(\\d{10})$`).exec(identifier)?.[1];
}

/** The answer to a handled request: an OperationOutcome, or the resource with its ETag, Location… */
function answerOf([outcome, resource]: [OperationOutcome, Resource?], request: { method: string; baseUrl: string; prefer: string; ignoredParameters: string[] }): FhirAnswer {
  const status = statusOf(outcome);
  const json = (body: Resource, headers: Record<string, string> = {}): FhirAnswer => ({ status, headers: { ...headers, 'content-type': FHIR_JSON }, body: JSON.stringify(body) });
  if (!resource || status >= 400) return json(status >= 400 ? outcomeInTableWords(outcome) : outcome);
  const headers: Record<string, string> = {};
  const meta = (resource as { meta?: { versionId?: string; lastUpdated?: string } }).meta;
  if (meta?.versionId && resource.resourceType !== 'Bundle') headers.etag = `W/"${meta.versionId}"`;
  if (meta?.lastUpdated && resource.resourceType !== 'Bundle') headers['last-modified'] = new Date(meta.lastUpdated).toUTCString();
  if (status === 201 && resource.id) headers.location = `${request.baseUrl}/${resource.resourceType}/${resource.id}/_history/${meta?.versionId ?? '1'}`;
  if (/return=minimal/.test(request.prefer) && request.method !== 'GET') return { status, headers, body: '' };
  if (/return=OperationOutcome/.test(request.prefer) && request.method !== 'GET') return json(outcome, headers);
  if (request.ignoredParameters.length > 0) headers['x-ignored-parameters'] = request.ignoredParameters.join(',');
  return json(resource, headers);
}

async function handle(request: FastifyRequest, repo: FhirStoreRepository, path: string, lenient: boolean): Promise<[OperationOutcome, Resource?]> {
  const query = request.query as Record<string, string | string[]>;
  let url = fhirUrl(request);
  const form = request.method === 'POST' && path.endsWith('_search') && request.body && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {};
  const [pathPart, search] = url.split('?', 2) as [string, string | undefined];
  const urlParams = new URLSearchParams(search ?? '');
  const notParameters = [...new Set([...urlParams.keys(), ...Object.keys(form)].filter(isPrototypeKey))];
  if (notParameters.length > 0) {
    if (!lenient) return [outcome('invalid', `not a search parameter: ${notParameters.join(', ')}`)];
    repo.ignoredParameters.push(...notParameters);
    for (const key of notParameters) {
      urlParams.delete(key);
      delete form[key];
    }
    url = `${pathPart}?${urlParams.toString()}`;
  }
  // No type, id or operation holds an encoded character (`$` is decoded before routing): `Patient%2Fx` or
  // `%3Cscript` would otherwise be taken for a type and answered with an empty search.
  const encoded = /%[0-9A-Fa-f]{2}/.exec(path)?.[0];
  if (encoded) return [outcome('invalid', `the path ${path} holds an encoded character (${encoded}) that no resource type, id or operation has`)];
  // A type the server does not hold is refused, not answered with an empty search (right or refuse); so is
  // a system-level operation or interaction it does not offer (`$everything`, `_history` across all types).
  const type = path.split('/', 1)[0]!;
  if (type && !RESOURCE_TYPES.has(type)) {
    const what = /^[A-Z]/.test(type) ? `${type} is not a FHIR R4 resource type this server holds` : `${type} is not an operation or interaction this server offers across all resource types`;
    return [appErrorOutcome(new AppError('not-found', what, type))];
  }
  const typeHistory = /^([A-Z][A-Za-z]+)\/_history$/.exec(path);
  if (typeHistory && request.method === 'GET') {
    return [ok(), await repo.readTypeHistory(typeHistory[1]!, { since: instantParameter(query, '_since'), count: countParameter(query) })];
  }
  const everything = /^Patient\/([A-Za-z0-9\-.]{1,64})\/\$everything$/.exec(path);
  if (everything && request.method === 'GET') {
    return [ok(), await repo.everything(everything[1]!, { since: instantParameter(query, '_since') })];
  }
  const body = request.body as Resource | undefined;
  const writesResource = (request.method === 'POST' || request.method === 'PUT') && !path.endsWith('_search') && !path.includes('$');
  if (writesResource && (!body || typeof body !== 'object' || Array.isArray(body))) {
    return [outcome('invalid', 'the body must be a FHIR resource: a JSON object with a resourceType')];
  }
  if (body && typeof body === 'object' && !Array.isArray(body) && request.method !== 'PATCH') {
    const urlType = /^([A-Z][A-Za-z]+)(?:\/|$)/.exec(path)?.[1];
    if (urlType && urlType !== '_search' && body.resourceType && body.resourceType !== urlType && !path.endsWith('_search')) {
      return [outcome('invalid', `the body is a ${body.resourceType} but the URL says ${urlType}`, 'resourceType')];
    }
  }
  const fhirRequest: FhirRequest = {
    method: request.method as HttpMethod,
    url,
    pathname: '',
    params: {},
    query: {},
    body: request.body,
    headers: request.headers as Record<string, string>,
    // Without this the router runs a transaction Bundle as a batch: entry by entry, not all or nothing.
    config: { transactions: true },
  };
  return dispatch(fhirRequest, repo);
}

/**
 * The router's handleRequest, except that an unexpected error (say, from the database) is thrown on,
 * to be logged and answered 500, instead of becoming a 400 that quotes the database's message.
 */
async function dispatch(fhirRequest: FhirRequest, repo: FhirStoreRepository): Promise<[OperationOutcome, Resource?]> {
  const route = router.find(fhirRequest.method, fhirRequest.url);
  if (!route) return [notFound];
  fhirRequest.params = route.params;
  fhirRequest.pathname = route.path;
  if (route.query) fhirRequest.query = route.query;
  return (await route.handler(fhirRequest, repo, router)) as [OperationOutcome, Resource?];
}

/** A FHIR instant or date query parameter (e.g. _since), or a 400. */
function instantParameter(query: Record<string, string | string[]>, name: string): string | undefined {
  const value = first(query[name]);
  if (value === undefined) return undefined;
  if (/^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/.test(value) && !Number.isNaN(Date.parse(value))) return value;
  throw new OperationOutcomeError(badRequest(`${name} must be a FHIR instant, e.g. 2024-04-01T09:00:00Z`, name));
}

function countParameter(query: Record<string, string | string[]>): number | undefined {
  const value = first(query._count);
  if (value === undefined) return undefined;
  if (/^\d{1,9}$/.test(value)) return Number(value);
  throw new OperationOutcomeError(badRequest('_count must be a whole number', '_count'));
}

/**
 * Keys found on every plain object (constructor, __proto__, toString…): the search parser takes them
 * for search parameters and fails. They never are one.
 */
const isPrototypeKey = (key: string) => Object.hasOwn(Object.prototype, key.split(':')[0]!);

const isBatch = (body: unknown): body is Bundle => !!body && typeof body === 'object' && (body as Bundle).resourceType === 'Bundle' && (body as Bundle).type === 'batch';

const isTransaction = (body: unknown): body is Bundle => !!body && typeof body === 'object' && (body as Bundle).resourceType === 'Bundle' && (body as Bundle).type === 'transaction';

/**
 * A transaction fails whole with one outcome, which names only the resource's own fields. Point it at
 * the entry that failed (`Bundle.entry[2].resource.identifier[0].value`), found by the failed write.
 */
function atFailedEntry(outcome: OperationOutcome, bundle: Bundle, failed: { resourceType: string; id: string } | undefined): OperationOutcome {
  if (!failed || outcome.issue?.some((issue) => issue.expression?.some((e) => e.startsWith('Bundle.')))) return outcome;
  const { resourceType, id } = failed;
  const index = (bundle.entry ?? []).findIndex((e) => (e.resource?.resourceType === resourceType && e.resource.id === id) || e.request?.url === `${resourceType}/${id}`);
  if (index === -1) return outcome;
  const at = `Bundle.entry[${index}]`;
  const inEntry = (e: string) => (e === resourceType || e.startsWith(`${resourceType}.`) ? `${at}.resource${e.slice(resourceType.length)}` : `${at}.${e}`);
  return { ...outcome, issue: (outcome.issue ?? []).map((issue) => ({ ...issue, expression: issue.expression?.length ? issue.expression.map(inEntry) : [at] })) };
}

/** The URL below /fhir as the router matched it (`/fhir/%50atient` is `/Patient`), with the query as sent. */
function fhirUrl(request: FastifyRequest): string {
  const query = request.url.indexOf('?');
  return (normalisedPath(request.url).slice('/fhir'.length) || '/') + (query === -1 ? '' : request.url.slice(query));
}

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

function headerValue(request: FastifyRequest, name: string): string | null {
  const value = request.headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  return text ? text.slice(0, 500) : null;
}

const ok = (): OperationOutcome => ({ resourceType: 'OperationOutcome', id: 'ok', issue: [{ severity: 'information', code: 'informational', details: { text: 'All OK' } }] });

function outcome(code: string, text: string, expression?: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: code as 'invalid', details: { text }, ...(expression ? { expression: [expression] } : {}) }] };
}

/** Whether JSON text nests objects and arrays deeper than the limit (brackets inside strings do not count). */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}
