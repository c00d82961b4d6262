/**
 * Find a patient: by NHS number (checked here, Modulus 11, before asking the server), by name and
 * date of birth, or by postcode. The URL holds the search, so back and reload show the same results.
 */
import type { Patient } from '@medplum/fhirtypes';
import { useState } from 'react';
import { ApiError, type User } from '../../api.ts';
import { DateField, emptyDate, ErrorSummary, isoFromParts, messageFor, SubmitButton, TextField, useSubmit, type DateParts } from '../../components/forms.tsx';
import { Breadcrumb, Loading } from '../../components/page-parts.tsx';
import { checkReason, MAX_REASON } from '../../components/record/break-glass.tsx';
import { bannerName, formatNhsNumber, nhsNumberDigits, nhsNumberMessage, nhsNumberOf, organisationText, registeredPractice } from '../../components/record/entries.ts';
import { RadiosField, TextAreaField } from '../../components/record/fields.tsx';
import { SortableTable } from '../../components/sortable-table.tsx';
import { formatDate } from '../../format.ts';
import { rememberBreakGlassReason } from '../../components/record/remembered-reason.ts';
import { searchPatients, type PatientMatches, type PatientQuery } from '../../record-api.ts';
import { Link, navigate, useLocation } from '../../router.tsx';
import { useSession } from '../../session.ts';
import { usePageTitle, useResource } from '../../use-resource.ts';
import { normalisePostcode } from '../../../../src/shared/ids.ts';
import '../../components/record/record.css';

type SearchBy = PatientQuery['kind'];

/** The search a URL describes, or null when it describes none (or one the form must correct). */
function queryFrom(search: URLSearchParams): PatientQuery | null {
  const by = search.get('by');
  if (by === 'nhs' && search.get('nhs')) return { kind: 'nhs', nhsNumber: search.get('nhs')! };
  if (by === 'name' && search.get('name') && search.get('dob')) return { kind: 'name', name: search.get('name')!, birthDate: search.get('dob')! };
  if (by === 'postcode' && search.get('postcode')) return { kind: 'postcode', postcode: search.get('postcode')! };
  return null;
}

function urlFor(query: PatientQuery): string {
  const params = new URLSearchParams({ by: query.kind });
  if (query.kind === 'nhs') params.set('nhs', query.nhsNumber);
  if (query.kind === 'name') {
    params.set('name', query.name);
    params.set('dob', query.birthDate);
  }
  if (query.kind === 'postcode') params.set('postcode', query.postcode);
  return `/patients?${params.toString()}`;
}

const partsOf = (iso: string | null): DateParts => {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso ?? '');
  return match ? { day: String(Number(match[3])), month: String(Number(match[2])), year: match[1]! } : emptyDate;
};

const invalid = (field: string, message: string) => new ApiError(422, 'invalid', message, field);

/** A full postcode in its normal form (`NR1 3SR`), or an outward code / district (`NR1`, `NR13`). */
function postcodeQuery(input: string): string {
  const text = input.trim().toUpperCase().replace(/\s+/g, ' ');
  if (!text) throw invalid('postcode', 'Enter a postcode');
  const full = normalisePostcode(text);
  if (full) return full;
  if (/^[A-Z]{1,2}\d[A-Z\d]?( \d[A-Z]{0,2})?$/.test(text)) return text;
  throw invalid('postcode', 'Enter a real postcode, like NR1 3SR, or its first part, like NR1');
}

/** The form's fields as a query, or a field error for the summary and the field. */
function buildQuery(by: SearchBy, fields: { nhs: string; name: string; dob: DateParts; postcode: string }): PatientQuery {
  if (by === 'nhs') {
    const problem = nhsNumberMessage(fields.nhs);
    if (problem) throw invalid('nhsNumber', problem);
    return { kind: 'nhs', nhsNumber: nhsNumberDigits(fields.nhs.trim()) };
  }
  if (by === 'name') {
    const name = fields.name.trim().replace(/\s+/g, ' ');
    if (!name) throw invalid('name', 'Enter the patient’s name, or the start of it');
    if (!/\p{L}/u.test(name)) throw invalid('name', 'A name must contain letters');
    const birthDate = isoFromParts(fields.dob, 'birthDate', 'Date of birth');
    if (!birthDate) throw invalid('birthDate', 'Enter the patient’s date of birth');
    if (birthDate > new Date().toISOString().slice(0, 10)) throw invalid('birthDate', 'Date of birth must be today or in the past');
    if (birthDate < '1880-01-01') throw invalid('birthDate', 'Date of birth must be after 1880');
    return { kind: 'name', name, birthDate };
  }
  return { kind: 'postcode', postcode: postcodeQuery(fields.postcode) };
}

export function PatientSearchPage() {
  const { search } = useLocation();
  const user = useSession();
  const query = queryFrom(search);
  usePageTitle('Find a patient');

  const [by, setBy] = useState<SearchBy>(query?.kind ?? 'nhs');
  const [nhs, setNhs] = useState(query?.kind === 'nhs' ? formatNhsNumber(query.nhsNumber) : '');
  const [name, setName] = useState(query?.kind === 'name' ? query.name : '');
  const [dob, setDob] = useState<DateParts>(partsOf(query?.kind === 'name' ? query.birthDate : null));
  const [postcode, setPostcode] = useState(query?.kind === 'postcode' ? query.postcode : '');

  const { error, busy, onSubmit } = useSubmit(async () => {
    navigate(urlFor(buildQuery(by, { nhs, name, dob, postcode })));
  });

  const seesPatients = user?.seesRecords ?? false;

  return (
    <>
      <Breadcrumb crumbs={[{ href: '/', text: 'Area overview' }]} />
      <h1>Find a patient</h1>
      {!seesPatients && (
        <div className="nhsuk-inset-text">
          <p>Your role ({user?.role}) sees no patient-level records: searches here will find nobody.</p>
        </div>
      )}
      <ErrorSummary error={error} fields={{ nhsNumber: 'search-nhs', name: 'search-name', birthDate: 'search-dob-day', postcode: 'search-postcode' }} />
      <form onSubmit={onSubmit} noValidate className="pcn-patient-search">
        <RadiosField
          id="search-by"
          legend="Search by"
          value={by}
          onChange={(value) => setBy(value as SearchBy)}
          options={[
            {
              value: 'nhs',
              label: 'NHS number',
              conditional: (
                <TextField
                  id="search-nhs"
                  label="NHS number"
                  hint="10 digits, for example 999 000 0018"
                  value={nhs}
                  onChange={setNhs}
                  error={messageFor(error, 'nhsNumber')}
                  width={10}
                  autoComplete="off"
                  spellCheck={false}
                />
              ),
            },
            {
              value: 'name',
              label: 'Name and date of birth',
              conditional: (
                <>
                  <TextField
                    id="search-name"
                    label="Name"
                    hint="The family name, or given and family names. The start of a name is enough, for example smi"
                    value={name}
                    onChange={setName}
                    error={messageFor(error, 'name')}
                    width={20}
                    autoComplete="off"
                    spellCheck={false}
                  />
                  <DateField id="search-dob" legend="Date of birth" hint="For example, 3 2 1940" value={dob} onChange={setDob} error={messageFor(error, 'birthDate')} />
                </>
              ),
            },
            {
              value: 'postcode',
              label: 'Postcode',
              conditional: (
                <TextField
                  id="search-postcode"
                  label="Postcode"
                  hint="A full postcode, like NR1 3SR, or its first part, like NR1"
                  value={postcode}
                  onChange={setPostcode}
                  error={messageFor(error, 'postcode')}
                  width={10}
                  autoComplete="off"
                  spellCheck={false}
                />
              ),
            },
          ]}
        />
        <SubmitButton busy={busy}>Search</SubmitButton>
      </form>
      {query && <Results key={urlFor(query)} query={query} user={user} />}
    </>
  );
}

function describe(query: PatientQuery): string {
  if (query.kind === 'nhs') return `NHS number ${formatNhsNumber(query.nhsNumber)}`;
  if (query.kind === 'name') return `“${query.name}” born ${formatDate(query.birthDate)}`;
  return `postcode ${query.postcode}`;
}

function Results({ query, user }: { query: PatientQuery; user: User | null }) {
  const [reason, setReason] = useState<string | null>(null);
  const matches = useResource<PatientMatches>(() => searchPatients(query, { breakGlassReason: reason }), reason ?? '');

  if (matches.state === 'loading') return <Loading what="patients" />;
  if (matches.state === 'failed') return <ErrorSummary error={matches.error} />;
  const { patients, more } = matches.data;

  return (
    <section aria-labelledby="results-heading" className="pcn-search-results">
      <h2 id="results-heading">{patients.length === 0 ? 'No patients found' : `${patients.length}${more ? '+' : ''} ${patients.length === 1 ? 'patient' : 'patients'} found`}</h2>
      {patients.length === 0 && <p>For {describe(query)}.</p>}
      {reason && <p>Found with emergency access. Your reason is recorded in the audit log.</p>}
      {more && <p>There are more patients than shown here. Add more of the name, or search by NHS number.</p>}
      {patients.length > 0 && <PatientTable patients={patients} caption={`Patients found for ${describe(query)}`} />}
      {patients.length === 0 && user?.breakGlass && query.kind === 'nhs' && !reason && (
        <EmergencySearch
          pcnCode={user.pcnCode}
          onReason={(given) => {
            rememberBreakGlassReason(given);
            setReason(given);
          }}
        />
      )}
    </section>
  );
}

function PatientTable({ patients, caption }: { patients: Patient[]; caption: string }) {
  return (
    <SortableTable<Patient>
      caption={caption}
      rows={patients}
      rowKey={(p) => p.id ?? ''}
      columns={[
        {
          key: 'name',
          header: 'Name',
          sortValue: bannerName,
          cell: (p) => <Link href={`/patients/${encodeURIComponent(p.id ?? '')}`}>{bannerName(p)}</Link>,
        },
        { key: 'nhs', header: 'NHS number', sortValue: (p) => formatNhsNumber(nhsNumberOf(p)) || null },
        { key: 'dob', header: 'Date of birth', sortValue: (p) => p.birthDate ?? null, cell: (p) => formatDate(p.birthDate) },
        { key: 'practice', header: 'Registered practice', sortValue: (p) => organisationText(registeredPractice(p)) },
      ]}
    />
  );
}

/**
 * For a clinician who found nobody by NHS number: with a reason, that one patient's record opens to them
 * for a few hours (break-glass). A reason never widens a search by name or postcode.
 */
function EmergencySearch({ pcnCode, onReason }: { pcnCode: string | null; onReason: (reason: string) => void }) {
  const [reason, setReason] = useState('');
  const { error, busy, onSubmit } = useSubmit(async () => onReason(checkReason(reason, 'reason')));
  return (
    <>
      <p>You can find patients registered at practices in your PCN{pcnCode ? ` (${pcnCode})` : ''}, and patients you have a care relationship with.</p>
      <details className="nhsuk-details">
        <summary className="nhsuk-details__summary">
          <span className="nhsuk-details__summary-text">Search outside your PCN in an emergency</span>
        </summary>
        <div className="nhsuk-details__text">
          <p>
            A reason opens this one patient’s record to you for 4 hours. It is recorded in the audit log with your name, the search and every record you open, and is reviewed by the information
            governance team.
          </p>
          <ErrorSummary error={error} fields={{ reason: 'search-reason' }} />
          <form onSubmit={onSubmit} noValidate>
            <TextAreaField
              id="search-reason"
              label="Why do you need to find this patient?"
              hint={`Up to ${MAX_REASON} characters.`}
              value={reason}
              onChange={setReason}
              error={messageFor(error, 'reason')}
              rows={3}
            />
            <button type="submit" className="nhsuk-button nhsuk-button--warning" disabled={busy} aria-disabled={busy}>
              Search in an emergency
            </button>
          </form>
        </div>
      </details>
    </>
  );
}
