-- Processed readings of committed batches with one flag per anomaly rule (see flagged_files):
-- what users query, e.g. WHERE dt = '2026-11-22' AND low_spo2.
CREATE OR REPLACE VIEW readings_flagged AS
SELECT f.*
FROM flagged_files AS f
WHERE f.batch_id IN (SELECT c.batch_id FROM batch_commits AS c)
