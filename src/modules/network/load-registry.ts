/** The whole registry as one snapshot (the shape seeding, publishing and the demo population take). */
import type { Db } from '../../storage/db.ts';
import { listAllocations } from '../funding/index.ts';
import type { RegistrySnapshot } from './types.ts';

export async function loadRegistry(db: Db): Promise<RegistrySnapshot> {
  const [areas, pcns, practices, memberships, partners, pcnPartners, allocations] = await Promise.all([
    db.query<RegistrySnapshot['areas'][number]>('SELECT code, name, size_min AS "sizeMin", size_max AS "sizeMax" FROM area ORDER BY code'),
    db.query<RegistrySnapshot['pcns'][number]>(
      `SELECT code, name, area_code AS "areaCode", clinical_director AS "clinicalDirector", nominated_payee_ods AS "nominatedPayeeOds",
              to_char(open_date, 'YYYY-MM-DD') AS "openDate", to_char(close_date, 'YYYY-MM-DD') AS "closeDate" FROM pcn ORDER BY code`,
    ),
    db.query<RegistrySnapshot['practices'][number]>('SELECT ods, name, postcode, town, latitude, longitude, list_size AS "listSize" FROM practice ORDER BY ods'),
    db.query<RegistrySnapshot['memberships'][number]>(
      `SELECT practice_ods AS "practiceOds", pcn_code AS "pcnCode", to_char(start_date, 'YYYY-MM-DD') AS "startDate",
              to_char(end_date, 'YYYY-MM-DD') AS "endDate" FROM practice_membership ORDER BY practice_ods, start_date`,
    ),
    db.query<RegistrySnapshot['partners'][number]>('SELECT code, name, type, postcode, latitude, longitude FROM partner ORDER BY code'),
    db.query<RegistrySnapshot['pcnPartners'][number]>('SELECT pcn_code AS "pcnCode", partner_code AS "partnerCode", role FROM pcn_partner ORDER BY pcn_code, partner_code'),
    listAllocations(db),
  ]);
  return { areas, pcns, practices, memberships, partners, pcnPartners, allocations };
}
