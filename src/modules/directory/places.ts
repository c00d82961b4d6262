/**
 * Where things are, from the registry (practices and partners carry postcodes and coordinates): the providing
 * organisation of a service, and the place a search is near — "lat,lon", a postcode, a postcode district or a
 * town — so the directory needs no gazetteer of its own.
 */
import { invalid } from '../../shared/errors.ts';
import { normalisePostcode } from '../../shared/ids.ts';
import type { Db } from '../../storage/db.ts';
import { cachedRead, loadRegistry, type RegistrySnapshot } from '../network/index.ts';
import type { DirectoryPlaces } from './service-fhir.ts';

interface Site {
  code: string;
  name: string;
  kind: 'practice' | 'partner';
  town: string | null;
  postcode: string | null;
  latitude: number | null;
  longitude: number | null;
}

export interface Registry extends DirectoryPlaces {
  snapshot: RegistrySnapshot;
  /** The PCNs a partner is linked to, or the PCN a practice is a member of now. */
  pcnsOf(code: string): string[];
  /** The place named, or an `invalid('near')` error saying what was not understood. */
  locate(near: string): { label: string; latitude: number; longitude: number };
}

/** The registry as the directory reads it: through network's read cache (dropped on every registry change, ≤ 5 s old). */
export function directoryRegistry(db: Db): Promise<Registry> {
  return cachedRead(db, 'directory-registry', async () => registryOf(await loadRegistry(db)));
}

export function registryOf(snapshot: RegistrySnapshot): Registry {
  const sites = new Map<string, Site>();
  for (const p of snapshot.practices) sites.set(p.ods.toUpperCase(), { code: p.ods, name: p.name, kind: 'practice', town: p.town, postcode: p.postcode, latitude: p.latitude, longitude: p.longitude });
  for (const p of snapshot.partners) sites.set(p.code.toUpperCase(), { code: p.code, name: p.name, kind: 'partner', town: null, postcode: p.postcode, latitude: p.latitude, longitude: p.longitude });
  const pcnNames = new Map(snapshot.pcns.map((p) => [p.code.toUpperCase(), p.name]));
  const placed = [...sites.values()].filter((s): s is Site & { latitude: number; longitude: number } => s.latitude !== null && s.longitude !== null);

  const centre = (label: string, matches: Array<{ latitude: number; longitude: number }>) => {
    if (matches.length === 0) return null;
    const latitude = matches.reduce((s, m) => s + m.latitude, 0) / matches.length;
    const longitude = matches.reduce((s, m) => s + m.longitude, 0) / matches.length;
    return { label, latitude: Math.round(latitude * 10_000) / 10_000, longitude: Math.round(longitude * 10_000) / 10_000 };
  };

  return {
    snapshot,
    organisation: (code) => sites.get(code.toUpperCase()),
    pcnName: (code) => pcnNames.get(code.toUpperCase()),
    pcnsOf(code) {
      const upper = code.toUpperCase();
      const linked = snapshot.pcnPartners.filter((l) => l.partnerCode.toUpperCase() === upper).map((l) => l.pcnCode);
      const member = snapshot.memberships.filter((m) => m.practiceOds.toUpperCase() === upper && m.endDate === null).map((m) => m.pcnCode);
      return [...new Set([...linked, ...member])];
    },
    locate(near) {
      const text = near.trim();
      const coordinates = /^(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)$/.exec(text);
      if (coordinates) {
        const latitude = Number(coordinates[1]);
        const longitude = Number(coordinates[2]);
        if (Math.abs(latitude) > 90 || Math.abs(longitude) > 180) throw invalid('near', 'a latitude is within ±90 and a longitude within ±180');
        return { label: `${latitude}, ${longitude}`, latitude, longitude };
      }
      const postcode = normalisePostcode(text);
      if (postcode) {
        const exact = centre(
          postcode,
          placed.filter((s) => s.postcode === postcode),
        );
        const district = centre(
          postcode,
          placed.filter((s) => s.postcode?.split(' ')[0] === postcode.split(' ')[0]),
        );
        const found = exact ?? district;
        if (found) return found;
      }
      const outward = text.toUpperCase().replace(/\s+/g, '');
      if (/^[A-Z]{1,2}\d[A-Z\d]?$/.test(outward)) {
        const found = centre(
          outward,
          placed.filter((s) => s.postcode?.split(' ')[0] === outward),
        );
        if (found) return found;
      }
      const town = text.toLowerCase();
      const inTown = centre(
        text,
        placed.filter((s) => s.town?.toLowerCase() === town),
      );
      if (inTown) return { ...inTown, label: placed.find((s) => s.town?.toLowerCase() === town)?.town ?? text };
      throw invalid('near', `'${text}' is not a town, postcode or "latitude, longitude" the registry knows`);
    },
  };
}

/** Kilometres between two points on the Earth (haversine). */
export function distanceKm(a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}
