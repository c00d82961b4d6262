/**
 * No patient-identifying data in the application log. Fastify logs every request's URL, and a search
 * puts NHS numbers, names, birth dates and addresses in the query string; a token may travel there too.
 * So the log keeps a URL's path and its parameter NAMES, never their values. Path segments are kept:
 * under /fhir and /api they are server-given ids (UUIDs, meaningless without the database; the audit
 * log is where an id is tied to a look), except that anything shaped like an NHS number or a date is
 * masked there as well, since a client may choose its own ids. Error messages and stacks are masked
 * the same way, and a database error's detail (which quotes the row's values) is not logged at all.
 */
import type { FastifyRequest } from 'fastify';
import pino from 'pino';

/** 10 digits, optionally spaced 3-3-4 as the NHS writes them; a calendar date (yyyy-mm-dd, dd/mm/yyyy, yyyymmdd). */
const IDENTIFYING = [
  [/(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)/g, '[nhs-number]'],
  [/(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)|(?<!\d)\d{1,2}\/\d{1,2}\/\d{2,4}(?!\d)|(?<!\d)(?:19|20)\d{6}(?!\d)/g, '[date]'],
] as const;

/** Masks what looks like an NHS number or a date in free text. */
export function maskIdentifying(text: string): string {
  let masked = text;
  for (const [pattern, mask] of IDENTIFYING) masked = masked.replace(pattern, mask);
  return masked;
}

/** A URL as the log may hold it: the path (masked), and the names of its query parameters with no values. */
export function redactUrl(url: string): string {
  const at = url.indexOf('?');
  const path = maskIdentifying(at === -1 ? url : url.slice(0, at));
  if (at === -1) return path;
  const names = [...new Set([...new URLSearchParams(url.slice(at + 1)).keys()])].map((name) => `${maskIdentifying(name).slice(0, 40)}=…`);
  return `${path}?${names.join('&')}`;
}

/** pino serializers that keep patient data out of the log (see the top of this file). */
export const redactingSerializers = {
  req(request: FastifyRequest) {
    return { method: request.method, url: redactUrl(request.url), id: request.id, remoteAddress: request.ip };
  },
  err(error: Error) {
    const { message, stack, type, code, statusCode } = pino.stdSerializers.err(error) as { message: string; stack: string; type: string; code?: string; statusCode?: number };
    return { type, code, statusCode, message: maskIdentifying(message ?? ''), stack: maskIdentifying(stack ?? '') };
  },
};
