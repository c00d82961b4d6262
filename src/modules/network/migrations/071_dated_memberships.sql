-- Scheduled and corrected practice moves (issue 13). A membership is in effect on a day when it has started
-- and not yet ended, so a move dated after today is a membership that starts then (the one it leaves ends
-- the day before) and takes effect on its date without anyone acting: "today" is worked out on every read.

-- When PCN Hub recorded the move that started this membership (NULL: seeded or imported). A move recorded
-- today, or not yet in effect, can be corrected or cancelled by rewriting its rows, not by adding more.
ALTER TABLE practice_membership ADD COLUMN moved_at timestamptz;

-- The registry's today: the calendar day in England, whatever the server's time zone (src/shared/dates.ts).
CREATE FUNCTION registry_today() RETURNS date LANGUAGE sql STABLE AS $$
  SELECT (now() AT TIME ZONE 'Europe/London')::date
$$;

-- The memberships in effect today: what other modules read to find a practice's PCN.
CREATE VIEW practice_membership_in_effect AS
  SELECT id, practice_ods, pcn_code, start_date, end_date
    FROM practice_membership
   WHERE start_date <= registry_today() AND (end_date IS NULL OR end_date >= registry_today());

-- A PCN's nominated payee from the day its payee moves out: written in the step that moves the payee, so
-- the PCN is never without one. Cancelling the move deletes it with the move's membership.
CREATE TABLE pcn_payee_change (
  membership_id bigint PRIMARY KEY REFERENCES practice_membership (id) ON DELETE CASCADE, -- the payee's move
  pcn_code      text NOT NULL REFERENCES pcn (code),                                     -- the PCN it leaves
  practice_ods  text NOT NULL REFERENCES practice (ods)                                  -- the payee from then
);
CREATE INDEX pcn_payee_change_pcn ON pcn_payee_change (pcn_code);

-- A PCN's nominated payee on a day: the latest change in effect by then, else the one it was given.
CREATE FUNCTION pcn_payee_on(pcn text, day date) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT COALESCE(
    (SELECT c.practice_ods FROM pcn_payee_change c JOIN practice_membership m ON m.id = c.membership_id
      WHERE c.pcn_code = $1 AND m.start_date <= $2 ORDER BY m.start_date DESC, m.id DESC LIMIT 1),
    (SELECT p.nominated_payee_ods FROM pcn p WHERE p.code = $1))
$$;
