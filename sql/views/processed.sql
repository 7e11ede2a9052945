-- Processed readings of committed batches only: what users query. The table processed_files reads
-- every file under processed/, including those of a run that died before committing; a batch
-- becomes visible here at once, when its commit marker (one object) is written.
CREATE OR REPLACE VIEW processed AS
SELECT p.*
FROM processed_files AS p
WHERE p.batch_id IN (SELECT c.batch_id FROM batch_commits AS c)
