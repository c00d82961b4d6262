/**
 * The service directory (issue 12): `/services` finds services by need, PCN and place (the query string is the
 * search, so a result can be linked to), on a map and in a list with each service's figures; `/services/:id` is
 * one service — who it is for, how to refer, opening times, the PCNs covered, its figures — and "Refer a patient".
 */
import { useState, type FormEvent } from 'react';
import { api, ApiError, SERVICE_TYPE_LABELS, type ClientConfig, type DirectoryService, type OpeningTime, type PcnSummary, type ServiceFigures, type ServiceSearch } from '../api.ts';
import { Confirmation, ErrorSummary, messageFor, SelectField, SubmitButton, TextField, useSubmit } from '../components/forms.tsx';
import { TextAreaField } from '../components/record/fields.tsx';
import { useSession } from '../session.ts';
import { Breadcrumb, LoadFailed, Loading } from '../components/page-parts.tsx';
import { ServicesMap } from '../components/services-map.tsx';
import { SummaryList } from '../components/summary-list.tsx';
import { formatCount } from '../format.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import { usePageTitle, useResource } from '../use-resource.ts';

const DAY_NAMES: Record<string, string> = { mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday', sun: 'Sunday' };

const hours = (h: number) => (h < 48 ? `${h} hour${h === 1 ? '' : 's'}` : `${Math.round((h / 24) * 10) / 10} days`);
const percent = (share: number) => `${Math.round(share * 100)}%`;

/** The figures in words, each saying what it is when there is nothing yet to count. */
export function figureWords(f: ServiceFigures) {
  return {
    median: f.medianHoursToAccept === null ? 'No referral accepted yet' : hours(f.medianHoursToAccept),
    share: f.shareAccepted === null ? 'None decided yet' : `${percent(f.shareAccepted)} (${formatCount(f.accepted)} accepted, ${formatCount(f.rejected)} rejected)`,
    open: f.capacity === null ? `${formatCount(f.openReferrals)} (capacity not given)` : `${formatCount(f.openReferrals)} of ${formatCount(f.capacity)}`,
    full: f.capacity !== null && f.openReferrals >= f.capacity,
  };
}

const daysText = (days: string[]) => {
  const order = Object.keys(DAY_NAMES);
  const sorted = [...days].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const contiguous = sorted.length > 2 && sorted.every((d, i) => i === 0 || order.indexOf(d) === order.indexOf(sorted[i - 1]!) + 1);
  return contiguous ? `${DAY_NAMES[sorted[0]!]} to ${DAY_NAMES[sorted.at(-1)!]}` : sorted.map((d) => DAY_NAMES[d] ?? d).join(', ');
};
const timesText = (t: OpeningTime) => (t.allDay ? '24 hours' : `${t.opens ?? '?'} to ${t.closes ?? '?'}`);

interface SearchData {
  result: ServiceSearch;
  pcns: PcnSummary[];
  config: ClientConfig;
}

export function ServicesPage() {
  usePageTitle('Find a service');
  const { search } = useLocation();
  const query = { need: search.get('need') ?? '', pcn: search.get('pcn') ?? '', near: search.get('near') ?? '', q: search.get('q') ?? '' };
  // Opened to refer one patient (/services?patient=<id>): the patient is carried to the service and its "Refer a patient".
  const patient = search.get('patient');
  const key = JSON.stringify(query);
  const data = useResource(async (): Promise<SearchData> => {
    const [result, pcns, config] = await Promise.all([api.services(query), api.pcns().catch(() => ({ items: [] as PcnSummary[] })), api.config().catch((): ClientConfig => ({}))]);
    return { result, pcns: pcns.items, config };
  }, key);

  return (
    <>
      <h1>Find a service</h1>
      <p>
        Services of the area's care community: community pharmacies, community and mental health services, social care, the voluntary sector and hospices. Each shows how quickly it accepts referrals
        and how full it is.
      </p>
      <SearchForm key={key} initial={query} patient={patient} pcns={data.state === 'ready' ? data.data.pcns : []} />
      {data.state === 'loading' && <Loading what="services" />}
      {data.state === 'failed' && <ErrorSummary error={data.error} fields={{ near: 'place', need: 'need', pcn: 'pcn', q: 'words' }} />}
      {data.state === 'ready' && <Results data={data.data} patient={patient} />}
    </>
  );
}

const serviceHref = (id: string, patient: string | null) => `/services/${encodeURIComponent(id)}${patient ? `?${new URLSearchParams({ patient })}` : ''}`;

function SearchForm({ initial, patient, pcns }: { initial: { need: string; pcn: string; near: string; q: string }; patient: string | null; pcns: PcnSummary[] }) {
  const [need, setNeed] = useState(initial.need);
  const [pcn, setPcn] = useState(initial.pcn);
  const [near, setNear] = useState(initial.near);
  const [q, setQ] = useState(initial.q);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const params = new URLSearchParams(Object.entries({ need, pcn, near, q, patient: patient ?? '' }).filter(([, v]) => v.trim() !== ''));
    navigate(`/services${params.size ? `?${params}` : ''}`);
  };
  const needs = [{ value: '', label: 'Any service' }, ...Object.entries(SERVICE_TYPE_LABELS).map(([value, label]) => ({ value, label }))];
  const pcnOptions = [{ value: '', label: 'Any PCN' }, ...pcns.map((p) => ({ value: p.code, label: `${p.name} (${p.code})` }))];
  if (pcn && !pcns.some((p) => p.code === pcn)) pcnOptions.push({ value: pcn, label: pcn });
  return (
    <form onSubmit={submit} noValidate aria-label="Search the directory" className="pcn-service-search">
      <SelectField id="need" label="Need" value={need} onChange={setNeed} options={needs} />
      <SelectField id="pcn" label="PCN covered" value={pcn} onChange={setPcn} options={pcnOptions} />
      <TextField id="place" label="Near (town, postcode or district)" hint="For example Great Yarmouth, NR30 or NR30 1AB" value={near} onChange={setNear} width={20} />
      <TextField id="words" label="Words" hint="Searches names, what the service does and who it is for" value={q} onChange={setQ} width={30} />
      <button type="submit" className="nhsuk-button" data-module="nhsuk-button">
        Search
      </button>
    </form>
  );
}

function Results({ data, patient }: { data: SearchData; patient: string | null }) {
  const { items, near } = data.result;
  return (
    <>
      <h2 id="results-heading">
        {items.length === 0 ? 'No services found' : `${formatCount(items.length)} service${items.length === 1 ? '' : 's'} found`}
        {near ? `, nearest to ${near.label} first` : ''}
      </h2>
      {items.length === 0 && <p>Try another need, or leave the PCN or place empty.</p>}
      {items.length > 0 && (
        <>
          <ServicesMap search={data.result} tiles={data.config.mapTiles ?? null} listId="service-list" onOpen={(id) => navigate(serviceHref(id, patient))} />
          <ul className="nhsuk-list pcn-service-list" id="service-list" tabIndex={-1} aria-labelledby="results-heading">
            {items.map((service) => (
              <ServiceCard key={service.id} service={service} href={serviceHref(service.id, patient)} />
            ))}
          </ul>
        </>
      )}
    </>
  );
}

function ServiceCard({ service, href }: { service: DirectoryService; href: string }) {
  const words = figureWords(service.figures);
  return (
    <li className="nhsuk-card nhsuk-card--clickable pcn-service-card">
      <div className="nhsuk-card__content">
        <h3 className="nhsuk-card__heading nhsuk-heading-s">
          <Link className="nhsuk-card__link" href={href}>
            {service.name}
          </Link>
        </h3>
        <p className="nhsuk-body-s nhsuk-u-margin-bottom-1">
          {service.types.map((t) => t.label).join(', ')} · {service.provider.name}
          {service.distanceKm !== undefined ? ` · ${service.distanceKm} km away` : ''}
        </p>
        <p className="nhsuk-body-s nhsuk-u-margin-bottom-0">
          Median time to accept: {words.median} · Accepted: {service.figures.shareAccepted === null ? 'none decided yet' : percent(service.figures.shareAccepted)} · Open referrals: {words.open}
          {words.full ? ' (full)' : ''}
        </p>
      </div>
    </li>
  );
}

export function ServicePage({ id }: { id: string }) {
  const { search } = useLocation();
  const service = useResource(() => api.service(id), id);
  usePageTitle(service.state === 'ready' ? service.data.name : 'Service');
  if (service.state === 'loading') return <Loading what="the service" />;
  if (service.state === 'failed') return <LoadFailed error={service.error} what="Service" retry={service.reload} />;
  const s = service.data;
  const words = figureWords(s.figures);
  const patient = search.get('patient');
  const referHref = `/referrals/new?${new URLSearchParams({ ...(patient ? { patient } : {}), service: s.id })}`;
  return (
    <>
      <Breadcrumb crumbs={[{ href: '/services', text: 'Find a service' }]} />
      <span className="nhsuk-caption-l">{s.types.map((t) => t.label).join(', ')}</span>
      <h1>{s.name}</h1>
      {!s.active && <p className="nhsuk-tag nhsuk-tag--grey">Not taking referrals</p>}
      {s.comment && <p className="nhsuk-body-l">{s.comment}</p>}
      {s.active && (
        <Link className="nhsuk-button" href={referHref}>
          Refer a patient
        </Link>
      )}

      <EditService service={s} onSaved={service.reload} />

      <h2>Figures</h2>
      <p className="nhsuk-body-s pcn-muted">From this service's own referrals in PCN Hub.</p>
      <SummaryList
        rows={[
          ['Median time to accept', words.median],
          ['Share accepted', words.share],
          ['Open referrals against capacity', `${words.open}${words.full ? ' (full)' : ''}`],
        ]}
      />

      <h2>Who can be referred</h2>
      {s.eligibility.length ? (
        <ul className="nhsuk-list nhsuk-list--bullet">
          {s.eligibility.map((e) => (
            <li key={e}>{e}</li>
          ))}
        </ul>
      ) : (
        <p>The service has not said.</p>
      )}

      <h2>How to refer</h2>
      {s.howToRefer.length ? (
        <ul className="nhsuk-list nhsuk-list--bullet">
          {s.howToRefer.map((e) => (
            <li key={e}>{e}</li>
          ))}
        </ul>
      ) : (
        <p>Refer in PCN Hub.</p>
      )}

      <h2>Opening times</h2>
      {s.openingTimes.length ? (
        <table className="nhsuk-table">
          <caption className="nhsuk-table__caption nhsuk-u-visually-hidden">Opening times</caption>
          <tbody className="nhsuk-table__body">
            {s.openingTimes.map((t) => (
              <tr className="nhsuk-table__row" key={`${t.days.join()}-${t.opens}`}>
                <th scope="row" className="nhsuk-table__header">
                  {daysText(t.days)}
                </th>
                <td className="nhsuk-table__cell">{timesText(t)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>Not given.</p>
      )}
      {s.notAvailable.map((n) => (
        <p key={n} className="nhsuk-body-s">
          Closed: {n}
        </p>
      ))}

      <h2>Provided by</h2>
      <SummaryList
        rows={[
          ['Organisation', `${s.provider.name} (${s.provider.code})`],
          ...(s.postcode ? [['Postcode', s.postcode] as [string, string]] : []),
          ...(s.phone ? [['Phone', s.phone] as [string, string]] : []),
          [
            'PCNs covered',
            s.pcns.length ? (
              <ul className="nhsuk-list nhsuk-u-margin-bottom-0">
                {s.pcns.map((p) => (
                  <li key={p.code}>
                    <Link href={`/pcns/${encodeURIComponent(p.code)}`}>{p.name}</Link>
                  </li>
                ))}
              </ul>
            ) : (
              'None named'
            ),
          ],
        ]}
      />
    </>
  );
}

const lines = (text: string) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);

/**
 * Keeping the entry current, for those who provide the service (its organisation's staff, a manager of a PCN it
 * covers, an admin — the server decides): taking referrals or not, capacity, who can be referred, how, when it is
 * closed, phone and a note. What is not edited here (types, PCNs covered, opening times) is sent back as it was.
 */
function EditService({ service, onSaved }: { service: DirectoryService; onSaved: () => Promise<void> }) {
  const user = useSession();
  const [active, setActive] = useState(service.active);
  const [capacity, setCapacity] = useState(service.figures.capacity === null ? '' : String(service.figures.capacity));
  const [eligibility, setEligibility] = useState(service.eligibility.join('\n'));
  const [howToRefer, setHowToRefer] = useState(service.howToRefer.join('\n'));
  const [notAvailable, setNotAvailable] = useState(service.notAvailable.join('\n'));
  const [phone, setPhone] = useState(service.phone ?? '');
  const [comment, setComment] = useState(service.comment ?? '');
  const [saved, setSaved] = useState<string | null>(null);
  const { error, busy, onSubmit } = useSubmit(async () => {
    const places = capacity.trim();
    if (places && !/^\d+$/.test(places)) throw new ApiError(422, 'invalid', 'Capacity is a whole number of open referrals, or blank', 'capacity');
    await api.updateService(
      service.id,
      {
        name: service.name,
        active,
        types: service.types.map((t) => t.code),
        providerCode: service.provider.code,
        pcns: service.pcns.map((p) => p.code),
        eligibility: lines(eligibility),
        howToRefer: lines(howToRefer),
        referralMethods: service.referralMethods,
        openingTimes: service.openingTimes,
        notAvailable: lines(notAvailable),
        capacity: places ? Number(places) : null,
        comment: comment.trim() || null,
        phone: phone.trim() || null,
      },
      service.versionId,
    );
    setSaved('The service’s entry is saved.');
    await onSaved();
  });
  const mayEdit = user?.role === 'admin' || user?.org === service.provider.code || (user?.role === 'pcn-manager' && service.pcns.some((p) => p.code === user.pcnCode));
  if (!mayEdit) return null;
  return (
    <>
      <Confirmation message={saved} />
      <details className="nhsuk-details pcn-service-edit">
        <summary className="nhsuk-details__summary">
          <span className="nhsuk-details__summary-text">Keep this service’s entry up to date</span>
        </summary>
        <div className="nhsuk-details__text">
          <form noValidate onSubmit={onSubmit}>
            <ErrorSummary
              error={error}
              fields={{
                capacity: 'service-capacity',
                eligibility: 'service-eligibility',
                howToRefer: 'service-how',
                notAvailable: 'service-closed',
                phone: 'service-phone',
                comment: 'service-comment',
              }}
            />
            <div className="nhsuk-form-group">
              <div className="nhsuk-checkboxes">
                <div className="nhsuk-checkboxes__item">
                  <input className="nhsuk-checkboxes__input" id="service-active" type="checkbox" checked={active} onChange={(event) => setActive(event.target.checked)} />
                  <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor="service-active">
                    Taking referrals
                  </label>
                </div>
              </div>
            </div>
            <TextField
              id="service-capacity"
              label="Capacity"
              hint="How many open referrals the service can hold at once. Leave blank if it has no set limit."
              width={5}
              value={capacity}
              onChange={setCapacity}
              error={messageFor(error, 'capacity')}
            />
            <TextAreaField
              id="service-eligibility"
              label="Who can be referred"
              hint="One point on each line"
              value={eligibility}
              onChange={setEligibility}
              rows={4}
              error={messageFor(error, 'eligibility')}
            />
            <TextAreaField id="service-how" label="How to refer" hint="One point on each line" value={howToRefer} onChange={setHowToRefer} rows={3} error={messageFor(error, 'howToRefer')} />
            <TextAreaField
              id="service-closed"
              label="When it is closed"
              hint="For example, bank holidays. One on each line"
              value={notAvailable}
              onChange={setNotAvailable}
              rows={2}
              error={messageFor(error, 'notAvailable')}
            />
            <TextField id="service-phone" label="Phone" width={20} value={phone} onChange={setPhone} error={messageFor(error, 'phone')} />
            <TextAreaField id="service-comment" label="About the service" value={comment} onChange={setComment} rows={3} error={messageFor(error, 'comment')} />
            <SubmitButton busy={busy}>Save the entry</SubmitButton>
          </form>
        </div>
      </details>
    </>
  );
}
