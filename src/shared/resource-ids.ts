/**
 * Ids the server gives resources: UUID version 7 (RFC 9562), whose first 48 bits are the time in ms.
 * Ids made one after another then sort one after another, so the indexes keyed by id take each new
 * resource near the ones just written instead of on a random page of a large index: at scale that is
 * fewer pages read, dirtied and written in full to the WAL. The other 74 bits are random, and v7 is
 * monotonic within a millisecond in this process.
 */
import { v7 } from 'uuid';

export const newResourceId = (): string => v7();
