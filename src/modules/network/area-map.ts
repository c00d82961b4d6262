/** The area as GeoJSON: each PCN's catchment drawn around its practices, practices and partners as points. */
import { buffer } from '@turf/buffer';
import { convex } from '@turf/convex';
import { featureCollection, point } from '@turf/helpers';
import type { Feature, FeatureCollection, Point, Polygon, MultiPolygon } from 'geojson';
import { notFound } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';
import { dayOf, inEffect } from './in-effect.ts';
import { listPcns } from './read-registry.ts';

/** How far (km) a catchment reaches beyond its outermost practices. */
const CATCHMENT_MARGIN_KM = 3;

interface Located {
  latitude: number | null;
  longitude: number | null;
}

const hasPlace = <T extends Located>(row: T): row is T & { latitude: number; longitude: number } => row.latitude !== null && row.longitude !== null;

/** The map on `asOf` (default: today in England): each practice inside the PCN it belongs to that day. */
export async function areaMap(db: Db, areaCode: string, asOf?: string): Promise<FeatureCollection> {
  const day = dayOf(asOf);
  const [area] = await db.query('SELECT 1 FROM area WHERE code = $1', [areaCode]);
  if (!area) throw notFound(`Area ${areaCode}`);
  const { items: pcns } = await listPcns(db, { area: areaCode, limit: 10_000, offset: 0, asOf: day });
  const practices = await db.query<{ ods: string; name: string; pcnCode: string; listSize: number } & Located>(
    `SELECT pr.ods, pr.name, m.pcn_code AS "pcnCode", pr.list_size AS "listSize", pr.latitude, pr.longitude
       FROM practice pr JOIN practice_membership m ON m.practice_ods = pr.ods AND ${inEffect('m', '$2::date')}
       JOIN pcn p ON p.code = m.pcn_code WHERE p.area_code = $1 ORDER BY pr.ods`,
    [areaCode, day],
  );
  const partners = await db.query<{ code: string; name: string; type: string } & Located>(
    `SELECT DISTINCT pa.code, pa.name, pa.type, pa.latitude, pa.longitude
       FROM partner pa JOIN pcn_partner pp ON pp.partner_code = pa.code JOIN pcn p ON p.code = pp.pcn_code
      WHERE p.area_code = $1 ORDER BY pa.code`,
    [areaCode],
  );

  const catchments: Feature<Polygon | MultiPolygon>[] = [];
  for (const pcn of pcns) {
    const places = practices.filter((p) => p.pcnCode === pcn.code).filter(hasPlace);
    if (places.length === 0) continue;
    const rings = places.map((p) => buffer(point([p.longitude, p.latitude]), CATCHMENT_MARGIN_KM, { units: 'kilometers', steps: 8 })!);
    const hull = convex(featureCollection(rings));
    if (!hull) continue;
    hull.properties = { kind: 'catchment', pcnCode: pcn.code, name: pcn.name, sizeStatus: pcn.sizeStatus, listSize: pcn.listSize };
    catchments.push(hull);
  }
  const practicePoints: Feature<Point>[] = practices
    .filter(hasPlace)
    .map((p) => point([p.longitude, p.latitude], { kind: 'practice', ods: p.ods, name: p.name, pcnCode: p.pcnCode, listSize: p.listSize }));
  const partnerPoints: Feature<Point>[] = partners.filter(hasPlace).map((p) => point([p.longitude, p.latitude], { kind: 'partner', code: p.code, name: p.name, type: p.type }));
  return featureCollection<Polygon | MultiPolygon | Point>([...catchments, ...practicePoints, ...partnerPoints]);
}
