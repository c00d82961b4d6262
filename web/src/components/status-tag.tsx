import type { SizeStatus } from '../api.ts';

const TAGS: Record<SizeStatus, { label: string; colour: string }> = {
  within: { label: 'Within range', colour: 'nhsuk-tag--green' },
  below: { label: 'Below range', colour: 'nhsuk-tag--orange' },
  above: { label: 'Above range', colour: 'nhsuk-tag--red' },
};

/** A PCN's list size against its area's working range: a warning, never a hard error. */
export function StatusTag({ status }: { status: SizeStatus }) {
  const tag = TAGS[status] ?? { label: status, colour: 'nhsuk-tag--grey' };
  return <strong className={`nhsuk-tag ${tag.colour}`}>{tag.label}</strong>;
}

export const statusLabel = (status: SizeStatus): string => TAGS[status]?.label ?? status;
