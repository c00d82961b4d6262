-- Where the change feed stood when a run began reading the record (every change up to it is in what the run
-- read): the server's follower, started for the first time after a run, begins there instead of re-scoring
-- everyone from the start of the feed.
ALTER TABLE population_run ADD COLUMN feed_position bigint;
