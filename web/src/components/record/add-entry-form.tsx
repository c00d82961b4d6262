/**
 * "Add an entry": a pharmacist's medicines review, a social worker's care-needs assessment, a link
 * worker's social-prescribing contact, or the patient's own "What matters to me" in their words.
 * The author is the signed-in user's organisation, tagged with its kind of agency, so every
 * professional reading the timeline sees who recorded it.
 */
import type { Organization, Patient, Procedure, QuestionnaireResponse, Reference, Resource } from '@medplum/fhirtypes';
import { useState } from 'react';
import { ApiError, type User } from '../../api.ts';
import { roleTitle } from '../../roles.ts';
import { AGENCY_SYSTEM, createEntry, FhirError, ODS_SYSTEM, WHAT_MATTERS_QUESTIONNAIRE } from '../../record-api.ts';
import { DateField, ErrorSummary, isoFromParts, messageFor, partsOf, SubmitButton, useSubmit, type DateParts } from '../forms.tsx';
import { agencyForOrg, agencyLabel, answersOf, plainName } from './entries.ts';
import { RadiosField, TextAreaField } from './fields.tsx';
import { AgencyTag } from './record-sections.tsx';

export const ENTRY_CODES = 'https://pcn-hub.example/CodeSystem/record-entry';
const SNOMED = 'http://snomed.info/sct';

type Kind = 'medicines-review' | 'care-needs-assessment' | 'social-prescribing' | 'what-matters';

const KINDS: Record<Kind, { label: string; hint: string; noteLabel: string; noteHint: string; done: string }> = {
  'medicines-review': {
    label: 'Medicines review (pharmacist)',
    hint: 'Recorded as a review of medication (SNOMED CT 182836005)',
    noteLabel: 'What did the review find and change?',
    noteHint: 'For example: medicines stopped or started, side effects discussed, follow-up agreed.',
    done: 'Medicines review',
  },
  'care-needs-assessment': {
    label: 'Care needs assessment (social worker)',
    hint: 'An assessment of care and support needs',
    noteLabel: 'What are the patient’s care and support needs?',
    noteHint: 'For example: help with washing and dressing each morning; carer needs a break.',
    done: 'Care needs assessment',
  },
  'social-prescribing': {
    label: 'Social prescribing contact (link worker)',
    hint: 'A conversation with a social prescribing link worker',
    noteLabel: 'What was discussed, and who was the patient connected with?',
    noteHint: 'For example: lonely since moving; introduced to the Tuesday lunch club.',
    done: 'Social prescribing contact',
  },
  'what-matters': {
    label: 'Update “What matters to me”',
    hint: 'The patient’s own words, shown first to everyone in their care team',
    noteLabel: '',
    noteHint: '',
    done: '“What matters to me”',
  },
};

const DEFAULT_QUESTIONS = [
  { linkId: 'what-matters', text: 'What matters to me' },
  { linkId: 'help-wanted', text: 'What I would like help with' },
  { linkId: 'support', text: 'People and things that support me' },
];

const today = () => new Date().toISOString().slice(0, 10);

/**
 * The signed-in user's organisation as the author of an entry: its code, and the signature the server signs
 * the entry with — "Name, role, Organisation name" (it writes the same whatever the display sent).
 */
function useAuthor(user: User | null): { author: Reference<Organization>; agency: string | null; orgCode: string | null } {
  const orgCode = user?.org ?? user?.pcnCode ?? null;
  const kind = user?.orgKind ?? agencyForOrg(orgCode);
  const name = user?.name ?? 'Unknown user';
  const display = user?.signature ?? (orgCode ? `${name}, ${roleTitle(user?.role ?? '').toLowerCase()}, ${user?.orgName ?? orgCode}` : `${name} (no organisation recorded)`);
  return {
    // A partner with a local code (LA-NORFOLK) is named under the registry's partner system, not as an ODS code.
    author: orgCode ? { identifier: user?.orgIdentifier ?? { system: ODS_SYSTEM, value: orgCode }, display } : { display },
    agency: kind,
    orgCode,
  };
}

/** Which form field a server OperationOutcome's FHIRPath `expression` is about. */
export function fieldOf(expression: string | undefined): 'date' | 'note' | 'kind' | undefined {
  if (!expression) return undefined;
  if (/performed|authored|effective|occurrence|period|recorded|\.date\b/i.test(expression)) return 'date';
  if (/note|item|answer|value/i.test(expression)) return 'note';
  if (/\.code\b|questionnaire|status/i.test(expression)) return 'kind';
  return undefined;
}

export function AddEntryForm({
  patient,
  user,
  latestWhatMatters,
  breakGlassReason,
  onAdded,
}: {
  patient: Patient;
  user: User | null;
  latestWhatMatters: QuestionnaireResponse | undefined;
  breakGlassReason: string | null;
  onAdded: (entry: Resource, what: string) => Promise<void>;
}) {
  const { author, agency, orgCode } = useAuthor(user);
  const questions = latestWhatMatters?.item?.length ? latestWhatMatters.item.map((item) => ({ linkId: item.linkId, text: item.text ?? item.linkId })) : DEFAULT_QUESTIONS;
  const previous = latestWhatMatters ? answersOf(latestWhatMatters) : [];

  const [kind, setKind] = useState<Kind | ''>('');
  const [date, setDate] = useState<DateParts>(partsOf(today()));
  const [note, setNote] = useState('');
  const [answers, setAnswers] = useState<string[]>(() => questions.map((q) => previous.find((p) => p.question === q.text)?.answer ?? ''));

  const { error, busy, onSubmit, clearError } = useSubmit(async () => {
    if (!kind) throw new ApiError(422, 'invalid', 'Choose what you are recording', 'kind');
    const when = isoFromParts(date, 'date', 'The date');
    if (!when) throw new ApiError(422, 'invalid', 'Enter the date it happened', 'date');
    if (when > today()) throw new ApiError(422, 'invalid', 'The date must be today or in the past', 'date');
    if (patient.birthDate && when < patient.birthDate) throw new ApiError(422, 'invalid', `The date must be on or after the patient’s date of birth (${patient.birthDate})`, 'date');
    const text = note.trim();
    if (kind !== 'what-matters' && !text) throw new ApiError(422, 'invalid', 'Enter a note about what happened', 'note');
    if (kind === 'what-matters' && answers.every((a) => !a.trim())) throw new ApiError(422, 'invalid', 'Enter what matters to the patient, in their words', 'note');

    const resource = kind === 'what-matters' ? whatMatters(when) : procedure(kind, when, text);
    let created: Resource;
    try {
      created = await createEntry(resource, { breakGlassReason });
    } catch (caught) {
      if (caught instanceof FhirError) throw new ApiError(caught.status, caught.code, caught.message, fieldOf(caught.expression));
      throw caught;
    }
    const what = KINDS[kind].done;
    setKind('');
    setNote('');
    setDate(partsOf(today()));
    await onAdded(created, what);
  });

  const subject: Reference<Patient> = { reference: `Patient/${patient.id}`, display: plainName(patient) };
  const meta = agency ? { tag: [{ system: AGENCY_SYSTEM, code: agency, display: agencyLabel(agency) }] } : undefined;

  function procedure(kind: Exclude<Kind, 'what-matters'>, when: string, text: string): Procedure {
    const local = { system: ENTRY_CODES, code: kind, display: KINDS[kind].done };
    const coding = kind === 'medicines-review' ? [{ system: SNOMED, code: '182836005', display: 'Review of medication' }, local] : [local];
    return {
      resourceType: 'Procedure',
      ...(meta ? { meta } : {}),
      status: 'completed',
      code: { coding, text: KINDS[kind].done },
      subject,
      performedDateTime: when,
      performer: [{ actor: author }],
      note: [{ text, time: new Date().toISOString() }],
    };
  }

  function whatMatters(when: string): QuestionnaireResponse {
    return {
      resourceType: 'QuestionnaireResponse',
      ...(meta ? { meta } : {}),
      questionnaire: WHAT_MATTERS_QUESTIONNAIRE,
      status: 'completed',
      subject,
      authored: when,
      author,
      source: { reference: `Patient/${patient.id}`, display: plainName(patient) },
      item: questions.map((q, i) => ({ linkId: q.linkId, text: q.text, answer: answers[i]?.trim() ? [{ valueString: answers[i]!.trim() }] : [] })).filter((item) => item.answer.length > 0),
    };
  }

  const noteId = kind === 'what-matters' ? 'entry-answer-0' : 'entry-note';
  const choose = (value: string) => {
    setKind(value as Kind);
    clearError();
  };

  return (
    <section className="pcn-change pcn-add-entry" aria-labelledby="add-entry-heading" id="add-entry">
      <h2 id="add-entry-heading">Add an entry</h2>
      <p>
        Recorded by <strong>{author.display}</strong>
        {orgCode ? ` (${orgCode})` : ''} {agency ? <AgencyTag code={agency} /> : null}
      </p>
      {!orgCode && (
        <div className="nhsuk-inset-text">
          <p>Your account has no organisation, so the record will not show which organisation made this entry. Ask an administrator to set it.</p>
        </div>
      )}
      {breakGlassReason && <p className="pcn-muted">You are adding to this record with emergency access; the entry is audited with your reason.</p>}
      <ErrorSummary error={error} fields={{ kind: 'entry-kind', date: 'entry-date-day', note: noteId }} />
      <form onSubmit={onSubmit} noValidate>
        <RadiosField
          id="entry-kind"
          legend="What are you recording?"
          value={kind}
          onChange={choose}
          error={messageFor(error, 'kind')}
          options={(Object.keys(KINDS) as Kind[]).map((value) => ({ value, label: KINDS[value].label, hint: KINDS[value].hint }))}
        />
        <DateField id="entry-date" legend="Date" hint="When it happened, for example 15 3 2025" value={date} onChange={setDate} error={messageFor(error, 'date')} />
        {kind === 'what-matters' ? (
          <fieldset className="nhsuk-fieldset">
            <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">In the patient’s own words</legend>
            <div className="nhsuk-hint">Write what they say, as they say it. Leave a box empty to leave it out.</div>
            {questions.map((q, i) => (
              <TextAreaField
                key={q.linkId}
                id={`entry-answer-${i}`}
                label={q.text}
                value={answers[i] ?? ''}
                onChange={(value) => setAnswers((current) => current.map((a, j) => (j === i ? value : a)))}
                error={i === 0 ? messageFor(error, 'note') : undefined}
                rows={3}
              />
            ))}
          </fieldset>
        ) : (
          <TextAreaField
            id="entry-note"
            label={kind ? KINDS[kind].noteLabel : 'Note'}
            hint={kind ? KINDS[kind].noteHint : 'What happened, in a few sentences.'}
            value={note}
            onChange={setNote}
            error={messageFor(error, 'note')}
          />
        )}
        <SubmitButton busy={busy}>Add entry</SubmitButton>
      </form>
    </section>
  );
}
