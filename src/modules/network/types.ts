/** The network registry as the NHS describes it: an area (ICB) → PCNs → member practices and partners. */

import type { Allocation } from '../funding/index.ts';

export type { Allocation };

export type SizeStatus = 'below' | 'within' | 'above';

export const PARTNER_TYPES = ['community-pharmacy', 'community-services', 'mental-health', 'acute', 'social-care', 'voluntary', 'care-home', 'ambulance', 'hospice', 'healthwatch'] as const;
export type PartnerType = (typeof PARTNER_TYPES)[number];

/** How people name each kind of partner, on pages and in published FHIR. */
export const PARTNER_TYPE_LABELS: Record<PartnerType, string> = {
  'community-pharmacy': 'Community pharmacy',
  'community-services': 'Community services',
  'mental-health': 'Mental health',
  acute: 'Acute trust',
  'social-care': 'Social care',
  voluntary: 'Voluntary and community sector',
  'care-home': 'Care home',
  ambulance: 'Ambulance service',
  hospice: 'Hospice',
  healthwatch: 'Healthwatch',
};

export interface Area {
  code: string; // ICB ODS code, Q + 2 characters
  name: string;
  sizeMin: number; // the area's working range for a PCN's registered list
  sizeMax: number | null; // null: no upper limit
}

export interface Pcn {
  code: string; // U + 5 digits
  name: string;
  areaCode: string;
  clinicalDirector: string | null;
  nominatedPayeeOds: string | null;
  openDate: string; // yyyy-mm-dd
  closeDate?: string | null;
}

export interface Practice {
  ods: string; // 1 letter + 5 digits
  name: string;
  postcode: string | null; // normalised, e.g. "NR1 3SR"
  town: string | null;
  latitude: number | null;
  longitude: number | null;
  listSize: number | null; // registered patients; null when not known (ePCN files carry none)
}

export interface Membership {
  practiceOds: string;
  pcnCode: string;
  startDate: string; // yyyy-mm-dd
  endDate: string | null;
  /** The practice was the nominated payee of the PCN it left: this practice is that PCN's payee from startDate. */
  payeeAfterOds?: string;
}

export interface Partner {
  code: string; // ODS code where the organisation has one, else a local code
  name: string;
  type: PartnerType;
  postcode: string | null;
  latitude: number | null;
  longitude: number | null;
}

/** A partner organisation's place in a PCN's care community (one partner may serve many PCNs). */
export interface PcnPartner {
  pcnCode: string;
  partnerCode: string;
  role: string | null; // e.g. "Community pharmacy lead"
}

/** Everything the registry holds, as imported or seeded in one go. */
export interface RegistrySnapshot {
  areas: Area[];
  pcns: Pcn[];
  practices: Practice[];
  memberships: Membership[];
  partners: Partner[];
  pcnPartners: PcnPartner[];
  allocations: Allocation[];
}
