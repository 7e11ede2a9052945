-- Processed readings with one flag per anomaly rule. The rule thresholds live here and nowhere
-- else: every report query reads this view, and reports show the thresholds it returns.
CREATE OR REPLACE VIEW readings_flagged AS
WITH thresholds AS (
    SELECT
        92 AS spo2_below,
        60 AS heart_rate_below,
        160 AS heart_rate_above,
        38.0 AS temp_c_above,
        140 AS systolic_bp_above,
        90 AS diastolic_bp_above
)
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
    (p.systolic_bp > t.systolic_bp_above OR p.diastolic_bp > t.diastolic_bp_above) AS high_blood_pressure,
    t.spo2_below,
    t.heart_rate_below,
    t.heart_rate_above,
    t.temp_c_above,
    t.systolic_bp_above,
    t.diastolic_bp_above
FROM processed AS p
CROSS JOIN thresholds AS t
