-- Every read and write of patient data appends one audit record, and each index on audit_event is one more
-- entry written with it, on the request's path (issues 9 and 10: reads and creates against the raw rate).
-- audit_event_entity served no query: the log is read by patient (GIN), by PCN, by actor, by break-glass and
-- by a window of time, each with its own index.
DROP INDEX audit_event_entity;
