/**
 * Find a patient: by NHS number (checked here, Modulus 11, before asking the server), by name and
 * date of birth, or by postcode. The URL holds the search, so back and reload show the same results.
 * A clinician's home: their caseload (care-team patients) below. An exact NHS number that finds a
 * patient outside the user's care says who they are and offers break-glass in one step (roles that may).
 */
import type { Patient } from '@medplum/fhirtypes';
import { useState } from 'react';
import { api, ApiError, type PatientListing, type User } from '../../api.ts';
import { DateField, emptyDate, ErrorSummary, isoFromParts, messageFor, SubmitButton, TextField, useSubmit, type DateParts } from '../../components/forms.tsx';
import { Breadcrumb, Loading } from '../../components/page-parts.tsx';
import { MAX_REASON, ReasonForm } from '../../components/record/break-glass.tsx';
import { bannerName, formatNhsNumber, nhsNumberDigits, nhsNumberMessage, nhsNumberOf, organisationText, registeredPractice } from '../../components/record/entries.ts';
import { RadiosField } from '../../components/record/fields.tsx';
import { SortableTable } from '../../components/sortable-table.tsx';
import { formatDate } from '../../format.ts';
import { rememberBreakGlassReason } from '../../components/record/remembered-reason.ts';
import { searchPatients, type PatientMatches, type PatientQuery } from '../../record-api.ts';
import { roleTitle, ROLE_HOME, seesPatients } from '../../roles.ts';
import { Caseload } from './my-patients-page.tsx';
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

  if (!seesPatients(user?.role)) {
    return (
      <>
        <h1>Find a patient</h1>
        <p>Your role ({roleTitle(user?.role ?? '')}) does not see patient records, so patient search is not offered to you.</p>
      </>
    );
  }
  const clinicianHome = !!user && ROLE_HOME[user.role] === 'patient-search';

  return (
    <>
      {!clinicianHome && <Breadcrumb crumbs={[{ href: '/', text: 'Home' }]} />}
      <h1>Find a patient</h1>
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
      {clinicianHome && !query && <Caseload headingLevel={2} />}
    </>
  );
}

function describe(query: PatientQuery): string {
  if (query.kind === 'nhs') return `NHS number ${formatNhsNumber(query.nhsNumber)}`;
  if (query.kind === 'name') return `“${query.name}” born ${formatDate(query.birthDate)}`;
  return `postcode ${query.postcode}`;
}

function Results({ query, user }: { query: PatientQuery; user: User | null }) {
  const matches = useResource<PatientMatches>(() => searchPatients(query), '');

  if (matches.state === 'loading') return <Loading what="patients" />;
  if (matches.state === 'failed') return <ErrorSummary error={matches.error} />;
  const { patients, more } = matches.data;
  // Only an exact NHS number, and only for a role that may break glass, may show who is outside one's care.
  const mayReveal = patients.length === 0 && query.kind === 'nhs' && !!user?.breakGlass;

  return (
    <section aria-labelledby="results-heading" className="pcn-search-results">
      <h2 id="results-heading">
        {patients.length === 0 ? (mayReveal ? 'Not one of your patients' : 'No patients found') : `${patients.length}${more ? '+' : ''} ${patients.length === 1 ? 'patient' : 'patients'} found`}
      </h2>
      {patients.length === 0 && !mayReveal && (
        <p>
          For {describe(query)}. You can find patients {user?.pcnCodes?.length ? `registered at practices in ${pcnWords(user)}, and patients ` : ''}you have a care relationship with.
        </p>
      )}
      {more && <p>There are more patients than shown here. Add more of the name, or search by NHS number.</p>}
      {patients.length > 0 && <PatientTable patients={patients} caption={`Patients found for ${describe(query)}`} />}
      {mayReveal && <OutsideYourCare nhsNumber={query.nhsNumber} user={user} />}
    </section>
  );
}

const pcnWords = (user: User) => (user.pcnCodes?.length === 1 ? `your PCN (${user.pcnCodes[0]})` : `the PCNs you work for (${user.pcnCodes?.join(', ')})`);

/**
 * An exact NHS number that the search did not find among the user's patients: who the patient is (the
 * server shows it only to roles that may break glass, and audits it), and a reason — asked once — that
 * opens their record at once.
 */
function OutsideYourCare({ nhsNumber, user }: { nhsNumber: string; user: User | null }) {
  const revealed = useResource(() => api.reveal(nhsNumber), nhsNumber);
  if (revealed.state === 'loading') return <Loading what="who this is" />;
  if (revealed.state === 'failed') return <ErrorSummary error={revealed.error} />;
  const answer = revealed.data;
  if (!answer.found) return <p>No patient has the NHS number {formatNhsNumber(nhsNumber)}.</p>;
  if (answer.related) {
    return (
      <p>
        <Link href={`/patients/${encodeURIComponent(answer.patientId)}`}>Open the record of the patient with NHS number {formatNhsNumber(nhsNumber)}</Link>
      </p>
    );
  }
  return <BreakGlassFromSearch patient={answer.patient} user={user} />;
}

function BreakGlassFromSearch({ patient, user }: { patient: PatientListing; user: User | null }) {
  const open = async (reason: string) => {
    await api.breakGlass(patient.id, reason);
    rememberBreakGlassReason(reason, patient.id);
    navigate(`/patients/${encodeURIComponent(patient.id)}`);
  };
  return (
    <>
      <p className="pcn-outside-care" data-testid="outside-care">
        <strong>{patient.name}</strong>, NHS number {formatNhsNumber(patient.nhsNumber ?? '')}, born {formatDate(patient.birthDate ?? undefined)} — not one of your patients.
      </p>
      <p>
        They are not registered {user?.pcnCodes?.length ? `at a practice in ${pcnWords(user)}` : 'in your PCN'}, and your organisation is not on their care team and holds no open referral or task for
        them.
      </p>
      <section aria-labelledby="break-glass-heading" className="pcn-break-glass">
        <h3 id="break-glass-heading">Break glass to open this record</h3>
        <p>
          If you need this record to care for the patient now, give your reason: it opens this one patient’s record to you for 4 hours. Your name, the time, your reason and everything you look at or
          add are recorded in the audit log and reviewed by the information governance team.
        </p>
        <ReasonForm
          id="search-reason"
          hint={`For example: patient attending the out-of-hours clinic, no access to their GP record. Up to ${MAX_REASON} characters.`}
          button="Break glass and open the record"
          onReason={open}
        />
      </section>
    </>
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
