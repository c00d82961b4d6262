/**
 * The service directory's words and shapes (docs/coordination.md, "Service"), with no imports, so the web app
 * can take them without server code.
 */

export const SERVICE_ID_SYSTEM = 'https://pcn-hub.example/Id/service';
export const SERVICE_TYPE_SYSTEM = 'https://pcn-hub.example/CodeSystem/service-type';
export const PCNS_COVERED_EXTENSION = 'https://pcn-hub.example/StructureDefinition/pcns-covered';
export const CAPACITY_EXTENSION = 'https://pcn-hub.example/StructureDefinition/capacity';
export const REFERRAL_METHOD_SYSTEM = 'http://terminology.hl7.org/CodeSystem/service-referral-method';

/** The kinds of service the directory knows by name (others may be stored: the code is shown as it is). */
export const SERVICE_TYPE_LABELS: Record<string, string> = {
  'pharmacy-first': 'Pharmacy First (minor illness consultation)',
  'urgent-repeat-medicine': 'Urgent repeat medicine supply',
  'falls-prevention': 'Falls prevention',
  'community-nursing': 'Community nursing',
  'memory-clinic': 'Memory assessment (memory clinic)',
  'talking-therapies': 'NHS Talking Therapies',
  'adult-social-care-assessment': 'Adult social care assessment',
  'carers-support': "Carers' support",
  'social-prescribing': 'Social prescribing',
  'specialist-palliative-care': 'Specialist palliative care',
  'respite-care': 'Respite (short-stay) care',
};

export const serviceTypeLabel = (code: string): string => SERVICE_TYPE_LABELS[code] ?? code;

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

export interface OpeningTime {
  days: Weekday[];
  /** hh:mm; absent with allDay. */
  opens?: string;
  closes?: string;
  allDay?: boolean;
}

/** Figures from the service's own referrals (its workflow Tasks): aggregates, no patient named. */
export interface ServiceFigures {
  /** Median of (accepted − sent) over referrals accepted, in hours; null before the first acceptance. */
  medianHoursToAccept: number | null;
  /** Accepted-or-later ÷ (those plus rejected); null before any was decided. */
  shareAccepted: number | null;
  accepted: number;
  rejected: number;
  /** Referrals open now (requested, received, accepted, in progress or on hold). */
  openReferrals: number;
  /** How many open referrals the service can hold; null when it has not said. */
  capacity: number | null;
}

/** One service as the directory shows it. */
export interface DirectoryService {
  id: string;
  /** The stable slug (identifier of system SERVICE_ID_SYSTEM). */
  slug: string | null;
  name: string;
  active: boolean;
  types: Array<{ code: string; label: string }>;
  /** The providing organisation (ODS or local code) and its name. */
  provider: { code: string; name: string };
  /** The PCNs covered, with their names. */
  pcns: Array<{ code: string; name: string }>;
  eligibility: string[];
  /** How to refer, in words, and the methods coded (e.g. elec, phone). */
  howToRefer: string[];
  referralMethods: string[];
  openingTimes: OpeningTime[];
  /** When it is not available (e.g. bank holidays), in words. */
  notAvailable: string[];
  comment: string | null;
  phone: string | null;
  /** Where the providing organisation is (from the registry), for the map and distance. */
  latitude: number | null;
  longitude: number | null;
  postcode: string | null;
  /** Kilometres from the place searched near, when one was given. */
  distanceKm?: number;
  figures: ServiceFigures;
  /** The version, for If-Match on an update. */
  versionId: string | null;
}
