-- Rejected rows of committed batches only: what users query (rejected_files reads every file).
CREATE OR REPLACE VIEW rejected AS
SELECT r.*
FROM rejected_files AS r
WHERE r.batch_id IN (SELECT c.batch_id FROM batch_commits AS c)
