/**
 * A deterministic, synthetic Norfolk & Waveney registry for demos and tests: real towns, made-up
 * practices, people and codes (well-formed but synthetic ODS codes). Pure: no I/O, no Math.random.
 * The same seed always gives the same snapshot; another seed changes list sizes, names and counts
 * within the same rules (20 PCNs, 100 practices, exactly 2 PCNs below and 1 above the size range).
 */
import type { Allocation, Area, Membership, Partner, PartnerType, Pcn, PcnPartner, Practice, RegistrySnapshot } from '../modules/network/index.ts';

// ---------------------------------------------------------------------------------------------
// Data tables
// ---------------------------------------------------------------------------------------------

type Council = 'Norfolk' | 'Suffolk';

export interface DemoTown {
  latitude: number;
  longitude: number;
  districts: readonly string[]; // postcode outward codes in and around the town
  council: Council;
}

/** The demo area's real towns (coordinates from the domain notes) and their postcode districts. */
export const DEMO_TOWNS = {
  Norwich: { latitude: 52.6309, longitude: 1.2974, districts: ['NR1', 'NR2', 'NR3', 'NR4', 'NR5', 'NR6', 'NR7'], council: 'Norfolk' },
  'Great Yarmouth': { latitude: 52.6083, longitude: 1.7305, districts: ['NR30', 'NR31'], council: 'Norfolk' },
  Lowestoft: { latitude: 52.4811, longitude: 1.7534, districts: ['NR32', 'NR33'], council: 'Suffolk' },
  "King's Lynn": { latitude: 52.7543, longitude: 0.3976, districts: ['PE30'], council: 'Norfolk' },
  Thetford: { latitude: 52.4137, longitude: 0.7497, districts: ['IP24'], council: 'Norfolk' },
  Dereham: { latitude: 52.6813, longitude: 0.9393, districts: ['NR19'], council: 'Norfolk' },
  Cromer: { latitude: 52.9311, longitude: 1.3016, districts: ['NR27'], council: 'Norfolk' },
  'North Walsham': { latitude: 52.8216, longitude: 1.3878, districts: ['NR28'], council: 'Norfolk' },
  Fakenham: { latitude: 52.8301, longitude: 0.8471, districts: ['NR21'], council: 'Norfolk' },
  Swaffham: { latitude: 52.6489, longitude: 0.6866, districts: ['PE37'], council: 'Norfolk' },
  Wymondham: { latitude: 52.5702, longitude: 1.1164, districts: ['NR18'], council: 'Norfolk' },
  Attleborough: { latitude: 52.518, longitude: 1.019, districts: ['NR17'], council: 'Norfolk' },
  Diss: { latitude: 52.3766, longitude: 1.1093, districts: ['IP22'], council: 'Norfolk' },
  Beccles: { latitude: 52.4582, longitude: 1.564, districts: ['NR34'], council: 'Suffolk' },
  'Downham Market': { latitude: 52.6003, longitude: 0.384, districts: ['PE38'], council: 'Norfolk' },
  Aylsham: { latitude: 52.793, longitude: 1.253, districts: ['NR11'], council: 'Norfolk' },
  Hunstanton: { latitude: 52.9399, longitude: 0.4914, districts: ['PE36'], council: 'Norfolk' },
  Hoveton: { latitude: 52.716, longitude: 1.408, districts: ['NR12'], council: 'Norfolk' },
  Sheringham: { latitude: 52.943, longitude: 1.21, districts: ['NR26'], council: 'Norfolk' },
  Holt: { latitude: 52.907, longitude: 1.091, districts: ['NR25'], council: 'Norfolk' },
  Watton: { latitude: 52.571, longitude: 0.828, districts: ['IP25'], council: 'Norfolk' },
  'Long Stratton': { latitude: 52.489, longitude: 1.232, districts: ['NR15'], council: 'Norfolk' },
  Bungay: { latitude: 52.456, longitude: 1.437, districts: ['NR35'], council: 'Suffolk' },
  Halesworth: { latitude: 52.344, longitude: 1.502, districts: ['IP19'], council: 'Suffolk' },
} as const satisfies Record<string, DemoTown>;

export type DemoTownName = keyof typeof DEMO_TOWNS;

/** How far (degrees) a generated site may sit from its town's centre, in latitude and longitude. */
export const DEMO_JITTER_DEGREES = 0.06;

export const DEMO_AREA = { code: 'Q99', name: 'Norfolk and Waveney (demo)', sizeMin: 25_000, sizeMax: 70_000 } satisfies Area;

type SizeBand = 'below' | 'within' | 'above';

interface PcnPlan {
  name: string;
  /** Where the PCN is based (its pharmacies, care homes and links are placed from here). */
  home: DemoTownName;
  /** The town of each member practice, in order: the length is the number of practices. */
  practiceTowns: readonly DemoTownName[];
  /** Outward codes to use for practices in the home town, when not all of the town's districts. */
  homeDistricts?: readonly string[];
  /** Roughly how many registered patients; the seed moves it by up to ±5%. */
  patients: number;
  band: SizeBand;
}

const N = 'Norwich' as const;

/** The 20 PCNs, U90001..U90020 in this order. Two small rural ones and Norwich City breach the range on purpose. */
const PCN_PLANS: readonly PcnPlan[] = [
  { name: 'Norwich City PCN', home: N, practiceTowns: [N, N, N, N, N, N, N, N], homeDistricts: ['NR1', 'NR2', 'NR3'], patients: 84_000, band: 'above' },
  { name: 'Norwich North PCN', home: N, practiceTowns: [N, N, N, N, N, N], homeDistricts: ['NR3', 'NR6', 'NR7'], patients: 66_000, band: 'within' },
  { name: 'Norwich South and West PCN', home: N, practiceTowns: [N, N, N, N, N, N], homeDistricts: ['NR4', 'NR5', 'NR2'], patients: 66_000, band: 'within' },
  {
    name: 'Great Yarmouth and Northern Villages PCN',
    home: 'Great Yarmouth',
    practiceTowns: ['Great Yarmouth', 'Great Yarmouth', 'Great Yarmouth', 'Great Yarmouth', 'Great Yarmouth', 'Great Yarmouth'],
    homeDistricts: ['NR30'],
    patients: 64_000,
    band: 'within',
  },
  {
    name: 'Gorleston PCN',
    home: 'Great Yarmouth',
    practiceTowns: ['Great Yarmouth', 'Great Yarmouth', 'Great Yarmouth', 'Great Yarmouth', 'Great Yarmouth'],
    homeDistricts: ['NR31'],
    patients: 54_000,
    band: 'within',
  },
  { name: 'Lowestoft PCN', home: 'Lowestoft', practiceTowns: ['Lowestoft', 'Lowestoft', 'Lowestoft', 'Lowestoft', 'Lowestoft', 'Lowestoft', 'Lowestoft'], patients: 66_000, band: 'within' },
  { name: "King's Lynn PCN", home: "King's Lynn", practiceTowns: ["King's Lynn", "King's Lynn", "King's Lynn", "King's Lynn", "King's Lynn", "King's Lynn"], patients: 66_000, band: 'within' },
  { name: 'Downham Market PCN', home: 'Downham Market', practiceTowns: ['Downham Market', 'Downham Market', 'Downham Market', 'Downham Market'], patients: 44_000, band: 'within' },
  { name: 'Hunstanton PCN', home: 'Hunstanton', practiceTowns: ['Hunstanton', 'Hunstanton'], patients: 18_000, band: 'below' },
  { name: 'Breckland (Thetford) PCN', home: 'Thetford', practiceTowns: ['Thetford', 'Thetford', 'Thetford', 'Thetford', 'Thetford'], patients: 58_000, band: 'within' },
  { name: 'Dereham PCN', home: 'Dereham', practiceTowns: ['Dereham', 'Dereham', 'Dereham', 'Dereham', 'Dereham', 'Dereham'], patients: 58_000, band: 'within' },
  { name: 'Swaffham and Watton PCN', home: 'Swaffham', practiceTowns: ['Swaffham', 'Swaffham', 'Watton', 'Watton'], patients: 46_000, band: 'within' },
  {
    name: 'Wymondham and Attleborough PCN',
    home: 'Wymondham',
    practiceTowns: ['Wymondham', 'Wymondham', 'Wymondham', 'Attleborough', 'Attleborough', 'Attleborough'],
    patients: 64_000,
    band: 'within',
  },
  { name: 'Diss and Long Stratton PCN', home: 'Diss', practiceTowns: ['Diss', 'Diss', 'Diss', 'Long Stratton', 'Long Stratton'], patients: 56_000, band: 'within' },
  { name: 'Cromer and Sheringham PCN', home: 'Cromer', practiceTowns: ['Cromer', 'Cromer', 'Sheringham', 'Sheringham'], patients: 44_000, band: 'within' },
  { name: 'North Walsham and Hoveton PCN', home: 'North Walsham', practiceTowns: ['North Walsham', 'North Walsham', 'North Walsham', 'Hoveton', 'Hoveton'], patients: 54_000, band: 'within' },
  { name: 'Fakenham and Holt PCN', home: 'Fakenham', practiceTowns: ['Fakenham', 'Fakenham', 'Holt', 'Holt'], patients: 44_000, band: 'within' },
  { name: 'Aylsham PCN', home: 'Aylsham', practiceTowns: ['Aylsham', 'Aylsham', 'Aylsham', 'Aylsham'], patients: 40_000, band: 'within' },
  { name: 'Beccles and Bungay PCN', home: 'Beccles', practiceTowns: ['Beccles', 'Beccles', 'Beccles', 'Bungay', 'Bungay'], patients: 50_000, band: 'within' },
  { name: 'Halesworth PCN', home: 'Halesworth', practiceTowns: ['Halesworth', 'Halesworth'], patients: 20_000, band: 'below' },
];

/** Practices that moved PCN on 2022-04-01: [current PCN index, practice index in it, earlier PCN index]. */
const MOVES: readonly (readonly [number, number, number])[] = [
  [1, 5, 0], // a Norwich practice from Norwich City to Norwich North
  [13, 4, 12], // a Long Stratton practice from Wymondham and Attleborough to Diss and Long Stratton
  [15, 4, 17], // a Hoveton practice from Aylsham to North Walsham and Hoveton
];
const MOVE_DATE = '2022-04-01';
const MOVE_PREVIOUS_END = '2022-03-31';
const NETWORK_START = '2019-07-01';

const PRACTICE_LIST_MIN = 2_500;
const PRACTICE_LIST_MAX = 25_000;

const STREETS = [
  'Market Street',
  'Church Lane',
  'Station Road',
  'High Street',
  'Mill Lane',
  'Park Road',
  'Victoria Road',
  "Queen's Road",
  'The Green',
  'Chapel Street',
  'Bridge Street',
  'London Road',
  'Grove Road',
  'Orchard Way',
  'Manor Road',
  'Beech Avenue',
  'Willow Lane',
  'Priory Road',
  'Abbey Road',
  'Riverside',
  "King's Road",
  'Alexandra Road',
  'Albert Street',
  'Cedar Drive',
  'Oak Street',
  'North Street',
  'Castle Street',
  'Norfolk Street',
] as const;
const PRACTICE_SUFFIXES = ['Surgery', 'Medical Practice', 'Health Centre', 'Surgery', 'Medical Centre'] as const;

const GIVEN_NAMES = ['Amelia', 'James', 'Priya', 'Tom', 'Sarah', 'Kwame', 'Helen', 'Rajesh', 'Claire', 'Oliver', 'Fatima', 'David', 'Ruth', 'Samuel', 'Grace', 'Ahmed'] as const;
const FAMILY_NAMES = [
  'Ashworth',
  'Blake',
  'Chandra',
  'Dunmore',
  'Ellison',
  'Fairweather',
  'Gould',
  'Harrington',
  'Iqbal',
  'Jarvis',
  'Keane',
  'Lockwood',
  'Mensah',
  'Norbury',
  'Okafor',
  'Pryce',
  'Quinlan',
  'Rowntree',
] as const;

const CARE_HOME_WORDS = ['Rose', 'Meadow', 'Oak', 'Willow', 'Cedar', 'Elm', 'Beech', 'Holly', 'Heron', 'Kingfisher', 'Swan', 'Poppy', 'Lavender', 'Orchard', 'Broadland'] as const;
const CARE_HOME_KINDS = ['Lodge', 'House', 'Court', 'View', 'Grange'] as const;

/** Organisations that serve many PCNs. `serves` decides which PCNs (by plan) each is linked to. */
interface SharedPartnerPlan {
  code: string;
  name: string;
  type: PartnerType;
  town: DemoTownName;
  role: string | null;
  serves: (pcn: PcnPlan, nearestAcute: string) => boolean;
}

const councilOf = (pcn: PcnPlan): Council => DEMO_TOWNS[pcn.home].council;
const everyone = () => true;

const ACUTE_TRUSTS: readonly { code: string; name: string; town: DemoTownName }[] = [
  { code: 'RZ1', name: 'Norwich University Hospitals NHS Foundation Trust (demo)', town: 'Norwich' },
  { code: 'RZ2', name: 'Great Yarmouth and Lowestoft Hospitals NHS Foundation Trust (demo)', town: 'Great Yarmouth' },
  { code: 'RZ3', name: "King's Lynn Hospital NHS Foundation Trust (demo)", town: "King's Lynn" },
];

const SHARED_PARTNERS: readonly SharedPartnerPlan[] = [
  ...ACUTE_TRUSTS.map((t): SharedPartnerPlan => ({ ...t, type: 'acute', role: null, serves: (_pcn, acute) => acute === t.code })),
  { code: 'RZ4', name: 'Norfolk and Suffolk Mental Health NHS Foundation Trust (demo)', type: 'mental-health', town: 'Norwich', role: null, serves: everyone },
  { code: 'RZ5', name: 'Norfolk and Waveney Community Health NHS Trust (demo)', type: 'community-services', town: 'Norwich', role: null, serves: everyone },
  { code: 'RZ6', name: 'East of England Ambulance Service NHS Trust (demo)', type: 'ambulance', town: 'Norwich', role: null, serves: everyone },
  { code: 'LA-NORFOLK', name: 'Norfolk County Council Adult Social Services', type: 'social-care', town: 'Norwich', role: 'Social care', serves: (pcn) => councilOf(pcn) === 'Norfolk' },
  {
    code: 'LA-SUFFOLK',
    name: 'Suffolk County Council Adult and Community Services (Waveney)',
    type: 'social-care',
    town: 'Lowestoft',
    role: 'Social care',
    serves: (pcn) => councilOf(pcn) === 'Suffolk',
  },
  { code: 'HW-NORFOLK', name: 'Healthwatch Norfolk', type: 'healthwatch', town: 'Norwich', role: 'Patient voice', serves: (pcn) => councilOf(pcn) === 'Norfolk' },
  { code: 'HW-SUFFOLK', name: 'Healthwatch Suffolk', type: 'healthwatch', town: 'Lowestoft', role: 'Patient voice', serves: (pcn) => councilOf(pcn) === 'Suffolk' },
  {
    code: 'VCS-NORWICH',
    name: 'Norwich Community Connectors',
    type: 'voluntary',
    town: 'Norwich',
    role: 'Social prescribing',
    serves: (pcn) => pcn.home === 'Norwich' || pcn.home === 'Aylsham' || pcn.home === 'Wymondham',
  },
  { code: 'VCS-EAST', name: 'East Coast Community Links', type: 'voluntary', town: 'Great Yarmouth', role: 'Social prescribing', serves: (_pcn, acute) => acute === 'RZ2' },
  { code: 'VCS-WEST', name: 'West Norfolk Voluntary Action (demo)', type: 'voluntary', town: "King's Lynn", role: 'Social prescribing', serves: (_pcn, acute) => acute === 'RZ3' },
  {
    code: 'VCS-RURAL',
    name: 'Rural Norfolk Good Neighbours',
    type: 'voluntary',
    town: 'Dereham',
    role: 'Social prescribing',
    serves: (pcn, acute) => acute === 'RZ1' && !['Norwich', 'Aylsham', 'Wymondham'].includes(pcn.home),
  },
  { code: 'HOSPICE-EAST', name: 'East Norfolk and Waveney Hospice (demo)', type: 'hospice', town: 'Norwich', role: null, serves: (_pcn, acute) => acute !== 'RZ3' },
  { code: 'HOSPICE-WEST', name: 'West Norfolk Hospice (demo)', type: 'hospice', town: "King's Lynn", role: null, serves: (_pcn, acute) => acute === 'RZ3' },
];

const MONEY: Allocation = {
  areaCode: DEMO_AREA.code,
  pcnCode: null,
  amountPence: 53_500_000, // £535,000
  purpose: 'PCN development',
  financialYear: '2019/20',
  source: 'NHS England',
};

// ---------------------------------------------------------------------------------------------
// Generator
// ---------------------------------------------------------------------------------------------

/** mulberry32: a tiny, fast, seeded PRNG giving floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(min: number, max: number): number {
    return min + (max - min) * this.next();
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }
}

// Inward codes: a digit then two letters, never C I K M O V.
const INWARD_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** Squared distance in degrees, longitude scaled for latitude: enough to rank nearby towns. */
function distance2(a: DemoTown, b: DemoTown): number {
  const dLat = a.latitude - b.latitude;
  const dLon = (a.longitude - b.longitude) * Math.cos((a.latitude * Math.PI) / 180);
  return dLat * dLat + dLon * dLon;
}

function nearestAcute(home: DemoTownName): string {
  const sorted = [...ACUTE_TRUSTS].sort((x, y) => distance2(DEMO_TOWNS[home], DEMO_TOWNS[x.town]) - distance2(DEMO_TOWNS[home], DEMO_TOWNS[y.town]));
  return sorted[0]?.code ?? 'RZ1';
}

/** Split a PCN's total into `count` practice list sizes, each within the practice range. */
function splitListSizes(rng: Rng, total: number, count: number): number[] {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const weights = Array.from({ length: count }, () => rng.float(0.5, 1.6));
    const sum = weights.reduce((s, w) => s + w, 0);
    const sizes = weights.map((w) => Math.round((total * w) / sum));
    const drift = total - sizes.reduce((s, n) => s + n, 0);
    sizes[sizes.length - 1] = (sizes[sizes.length - 1] ?? 0) + drift;
    if (sizes.every((n) => n >= PRACTICE_LIST_MIN && n <= PRACTICE_LIST_MAX)) return sizes;
  }
  throw new Error(`cannot split ${total} patients into ${count} practices`);
}

/** A PCN's total list size for its band, moved by the seed but always inside the band. */
function pcnTotal(rng: Rng, plan: PcnPlan): number {
  const lo = plan.band === 'within' ? Math.max(DEMO_AREA.sizeMin + 1_000, plan.patients * 0.95) : plan.patients * 0.9;
  const hi = plan.band === 'within' ? Math.min(DEMO_AREA.sizeMax - 1_000, plan.patients * 1.05) : plan.patients * 1.1;
  const total = Math.round(rng.float(lo, hi));
  if (plan.band === 'below') return Math.min(total, DEMO_AREA.sizeMin - 1_000);
  if (plan.band === 'above') return Math.max(total, DEMO_AREA.sizeMax + 1_000);
  return total;
}

/** Makes unique, valid postcodes and jittered coordinates around towns. */
class Places {
  private readonly used = new Set<string>();
  constructor(private readonly rng: Rng) {}

  postcode(districts: readonly string[]): string {
    for (;;) {
      const outward = this.rng.pick(districts);
      const inward = `${this.rng.int(1, 9)}${this.rng.pick([...INWARD_LETTERS])}${this.rng.pick([...INWARD_LETTERS])}`;
      const postcode = `${outward} ${inward}`;
      if (!this.used.has(postcode)) {
        this.used.add(postcode);
        return postcode;
      }
    }
  }

  near(town: DemoTownName): { latitude: number; longitude: number } {
    const t = DEMO_TOWNS[town];
    return {
      latitude: round4(t.latitude + this.rng.float(-DEMO_JITTER_DEGREES, DEMO_JITTER_DEGREES)),
      longitude: round4(t.longitude + this.rng.float(-DEMO_JITTER_DEGREES, DEMO_JITTER_DEGREES)),
    };
  }
}

/** Unique names drawn from a shuffled list, with a fallback when the list runs out. */
class NamePool {
  private readonly queue: string[];
  private count = 0;
  constructor(rng: Rng, names: readonly string[]) {
    this.queue = rng.shuffle(names);
  }
  take(fallback: string): string {
    this.count++;
    return this.queue.shift() ?? `${fallback} ${this.count}`;
  }
}

/** The synthetic Norfolk & Waveney registry: 1 area, 20 PCNs, 100 practices, partners and money. */
export function demoArea(seed = 1): RegistrySnapshot {
  const rng = new Rng(seed);
  const places = new Places(rng);
  const streetsByTown = new Map<DemoTownName, NamePool>();
  const directors = new NamePool(
    rng,
    GIVEN_NAMES.flatMap((g) => FAMILY_NAMES.map((f) => `Dr ${g} ${f}`)),
  );
  const careHomeNames = new NamePool(
    rng,
    CARE_HOME_WORDS.flatMap((w) => CARE_HOME_KINDS.map((k) => `${w} ${k}`)),
  );
  const pharmacyNames = new Set<string>();

  const pcns: Pcn[] = [];
  const practices: Practice[] = [];
  const memberships: Membership[] = [];
  const partners: Partner[] = [];
  const pcnPartners: PcnPartner[] = [];
  const practiceCodesByPcn: string[][] = [];

  const pcnCode = (index: number) => `U9${pad(index + 1, 4)}`;

  PCN_PLANS.forEach((plan, p) => {
    const code = pcnCode(p);
    const sizes = splitListSizes(rng, pcnTotal(rng, plan), plan.practiceTowns.length);
    const codes: string[] = [];
    const townsSeen = new Set<DemoTownName>();

    plan.practiceTowns.forEach((town, i) => {
      const ods = `Z9${pad(p + 1, 2)}${pad(i + 1, 2)}`;
      let streets = streetsByTown.get(town);
      if (!streets) {
        streets = new NamePool(rng, STREETS);
        streetsByTown.set(town, streets);
      }
      // The first practice in a small town is the town's medical centre; the rest are named after streets.
      const name = !townsSeen.has(town) && town !== 'Norwich' && town !== 'Great Yarmouth' ? `${town} Medical Centre` : `${streets.take('Street')} ${rng.pick(PRACTICE_SUFFIXES)}`;
      townsSeen.add(town);
      const districts = town === plan.home && plan.homeDistricts ? plan.homeDistricts : DEMO_TOWNS[town].districts;
      practices.push({ ods, name, postcode: places.postcode(districts), town, ...places.near(town), listSize: sizes[i] ?? PRACTICE_LIST_MIN });
      codes.push(ods);
    });
    practiceCodesByPcn.push(codes);

    const movedHere = new Set(MOVES.filter(([to]) => to === p).map(([, i]) => codes[i]));
    for (const ods of codes) {
      memberships.push({ practiceOds: ods, pcnCode: code, startDate: movedHere.has(ods) ? MOVE_DATE : NETWORK_START, endDate: null });
    }

    // The nominated payee is the largest practice that has been a member since the start.
    const payee =
      codes
        .map((ods, i) => ({ ods, size: sizes[i] ?? 0 }))
        .filter(({ ods }) => !movedHere.has(ods))
        .sort((a, b) => b.size - a.size)[0]?.ods ?? null;

    pcns.push({ code, name: plan.name, areaCode: DEMO_AREA.code, clinicalDirector: directors.take('Dr Demo'), nominatedPayeeOds: payee, openDate: NETWORK_START });
  });

  // Earlier memberships of the practices that moved.
  for (const [to, i, from] of MOVES) {
    const ods = practiceCodesByPcn[to]?.[i];
    if (ods === undefined) throw new Error(`demo move refers to a missing practice (${to}, ${i})`);
    memberships.push({ practiceOds: ods, pcnCode: pcnCode(from), startDate: NETWORK_START, endDate: MOVE_PREVIOUS_END });
  }

  // Each PCN's own community pharmacies (one of them the lead) and care homes.
  PCN_PLANS.forEach((plan, p) => {
    const code = pcnCode(p);
    const pharmacyCount = rng.int(1, 3);
    const lead = rng.int(0, pharmacyCount - 1);
    for (let k = 0; k < pharmacyCount; k++) {
      const town = plan.practiceTowns[k % plan.practiceTowns.length] ?? plan.home;
      let name = `${town} Pharmacy`;
      if (pharmacyNames.has(name)) name = `${streetsByTown.get(town)?.take('Street') ?? 'High Street'} Pharmacy, ${town}`;
      pharmacyNames.add(name);
      const partnerCode = `FZ${pad(p + 1, 2)}${k + 1}`;
      partners.push({ code: partnerCode, name, type: 'community-pharmacy', postcode: places.postcode(DEMO_TOWNS[town].districts), ...places.near(town) });
      pcnPartners.push({ pcnCode: code, partnerCode, role: k === lead ? 'Community pharmacy lead' : null });
    }
    const careHomes = rng.int(1, 2);
    for (let k = 0; k < careHomes; k++) {
      const partnerCode = `CH-${code}-${k + 1}`;
      partners.push({ code: partnerCode, name: careHomeNames.take('Care Home'), type: 'care-home', postcode: places.postcode(DEMO_TOWNS[plan.home].districts), ...places.near(plan.home) });
      pcnPartners.push({ pcnCode: code, partnerCode, role: 'Care home (aligned)' });
    }
  });

  // Organisations shared across the area, linked to the PCNs they serve.
  for (const shared of SHARED_PARTNERS) {
    partners.push({ code: shared.code, name: shared.name, type: shared.type, postcode: places.postcode(DEMO_TOWNS[shared.town].districts), ...places.near(shared.town) });
    PCN_PLANS.forEach((plan, p) => {
      if (shared.serves(plan, nearestAcute(plan.home))) pcnPartners.push({ pcnCode: pcnCode(p), partnerCode: shared.code, role: shared.role });
    });
  }

  return {
    areas: [{ ...DEMO_AREA }],
    pcns,
    practices,
    memberships,
    partners,
    pcnPartners,
    allocations: [{ ...MONEY }],
  };
}
