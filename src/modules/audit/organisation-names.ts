/**
 * The registry's name (PCN, practice or partner) of the organisation whose code is the SQL expression `org`; null
 * when none. Here, not in the access module that also uses it for actors, because the audit's views need it and
 * the access module already depends on the audit (an import the other way would be a cycle).
 */
export const organisationNameSql = (org: string): string =>
  `COALESCE((SELECT p.name FROM pcn p WHERE p.code = ${org}), (SELECT pr.name FROM practice pr WHERE pr.ods = ${org}),
           (SELECT pa.name FROM partner pa WHERE pa.code = ${org}))`;
