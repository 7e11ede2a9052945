-- Every processed reading with one flag per anomaly rule, applying the thresholds of
-- anomaly_thresholds: the one place the rules are applied. The report reads it for its own batch,
-- which is committed before any report runs, so it needs no join with batch_commits (a join whose
-- cost would grow with the number of batches); users read readings_flagged.
CREATE OR REPLACE VIEW flagged_files AS
SELECT
    p.event_time,
    p.user_id,
    p.heart_rate,
    p.spo2,
    p.steps,
    p.temp_c,
    p.systolic_bp,
    p.diastolic_bp,
    p.batch_id,
    p.ingested_at,
    p.dt,
    p.spo2 < t.spo2_below AS low_spo2,
    (p.heart_rate < t.heart_rate_below OR p.heart_rate > t.heart_rate_above) AS abnormal_heart_rate,
    p.temp_c > t.temp_c_above AS fever,
    (p.systolic_bp > t.systolic_bp_above OR p.diastolic_bp > t.diastolic_bp_above) AS high_blood_pressure
FROM processed_files AS p
CROSS JOIN anomaly_thresholds AS t
