/**
 * MDT meetings (issue 12): the meetings of my PCN — scheduled ones first, soonest first — and a form to schedule one
 * (title, date and time, place or video link). The chair is the person scheduling it.
 */
import { useState } from 'react';
import { api, type Meeting } from '../api.ts';
import { DateField, type DateParts, ErrorSummary, emptyDate, isoFromParts, messageFor, SubmitButton, TextField, useSubmit } from '../components/forms.tsx';
import { LoadFailed, Loading, TableHead, TableRegion } from '../components/page-parts.tsx';
import { formatDateTime } from '../format.ts';
import { ApiError } from '../api.ts';
import { Link, navigate } from '../router.tsx';
import { usePageTitle, useResource } from '../use-resource.ts';

const STATUS_WORDS: Record<Meeting['status'], string> = { scheduled: 'Scheduled', closed: 'Closed: minutes on the records', cancelled: 'Cancelled' };

export function MdtPage() {
  usePageTitle('MDT meetings');
  const meetings = useResource(() => api.meetings(), 'meetings');
  return (
    <>
      <h1>MDT meetings</h1>
      <p>
        Multidisciplinary team meetings of your PCN. Build an agenda from a population-health list, record the discussion and actions for each patient, and close the meeting to put the minutes on each
        patient’s record.
      </p>
      {meetings.state === 'loading' && <Loading what="the meetings" />}
      {meetings.state === 'failed' && <LoadFailed error={meetings.error} what="The meetings" retry={meetings.reload} />}
      {meetings.state === 'ready' &&
        (meetings.data.items.length === 0 ? (
          <p>No meetings yet.</p>
        ) : (
          <TableRegion label="Meetings">
            <table className="nhsuk-table">
              <caption className="nhsuk-table__caption">Meetings</caption>
              <TableHead headings={['Meeting', 'When', 'Where', 'Chair', 'Status']} />
              <tbody className="nhsuk-table__body">
                {meetings.data.items.map((m) => (
                  <tr className="nhsuk-table__row" key={m.id}>
                    <td className="nhsuk-table__cell">
                      <Link href={`/mdt/${m.id}`}>{m.title}</Link>
                    </td>
                    <td className="nhsuk-table__cell">{formatDateTime(m.startsAt)}</td>
                    <td className="nhsuk-table__cell">{m.place || 'Not given'}</td>
                    <td className="nhsuk-table__cell">{m.chair.name}</td>
                    <td className="nhsuk-table__cell">{STATUS_WORDS[m.status]}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableRegion>
        ))}
      <ScheduleForm />
    </>
  );
}

function ScheduleForm() {
  const [title, setTitle] = useState('');
  const [day, setDay] = useState<DateParts>(emptyDate);
  const [time, setTime] = useState('');
  const [place, setPlace] = useState('');
  const { error, busy, onSubmit } = useSubmit(async () => {
    const date = isoFromParts(day, 'startsAt', 'The date', 'Enter the date of the meeting');
    if (!/^([01]?\d|2[0-3]):[0-5]\d$/.test(time.trim())) throw new ApiError(422, 'invalid', 'Enter the time as hours and minutes, for example 13:30', 'time');
    const [hours, minutes] = time.trim().split(':');
    const startsAt = new Date(`${date}T${hours!.padStart(2, '0')}:${minutes}:00`).toISOString();
    const meeting = await api.scheduleMeeting({ title, startsAt, place });
    navigate(`/mdt/${meeting.id}`);
  });
  return (
    <form onSubmit={onSubmit} noValidate>
      <h2>Schedule a meeting</h2>
      <ErrorSummary error={error} fields={{ title: 'title', startsAt: 'startsAt', time: 'time', place: 'place' }} />
      <TextField id="title" label="Title" hint="For example, Frailty MDT – December" value={title} onChange={setTitle} error={messageFor(error, 'title')} />
      <DateField id="startsAt" legend="Date" hint="For example, 10 12 2026" value={day} onChange={setDay} error={messageFor(error, 'startsAt')} />
      <TextField id="time" label="Time" hint="24-hour clock, for example 13:30" value={time} onChange={setTime} width={5} error={messageFor(error, 'time')} />
      <TextField id="place" label="Place or video link" value={place} onChange={setPlace} error={messageFor(error, 'place')} />
      <SubmitButton busy={busy}>Schedule meeting</SubmitButton>
    </form>
  );
}
