-- One row per batch: how big it is, who it covers, when, and how much was rejected and anomalous.
-- The analyze stage stores this row under summaries/ once per batch, so that later reports compare
-- against earlier batches by reading these rows, never the earlier batches' readings.
WITH readings AS (
    SELECT
        count(*) AS readings,
        count(DISTINCT user_id) AS users,
        min(event_time) AS first_event,
        max(event_time) AS last_event,
        count_if(low_spo2 OR abnormal_heart_rate OR fever OR high_blood_pressure) AS anomaly_readings,
        count_if(low_spo2) AS low_spo2,
        count_if(abnormal_heart_rate) AS abnormal_heart_rate,
        count_if(fever) AS fever,
        count_if(high_blood_pressure) AS high_blood_pressure
    FROM flagged_files
    WHERE batch_id = :batch_id AND dt BETWEEN :dt_from AND :dt_to
),

rejects AS (
    SELECT count(*) AS rejected
    FROM rejected_files
    WHERE batch_id = :batch_id AND dt = :rejected_dt
)

SELECT
    :batch_id AS batch_id,
    :ingested_at AS ingested_at,
    readings.readings,
    readings.users,
    readings.first_event,
    readings.last_event,
    readings.anomaly_readings,
    readings.low_spo2,
    readings.abnormal_heart_rate,
    readings.fever,
    readings.high_blood_pressure,
    rejects.rejected,
    CAST(rejects.rejected AS double) / nullif(readings.readings + rejects.rejected, 0) AS reject_rate
FROM readings
CROSS JOIN rejects
