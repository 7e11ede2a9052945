-- One row: how big the batch is, who it covers, when, and how much of it was rejected.
WITH readings AS (
    SELECT
        count(*) AS readings,
        count(DISTINCT user_id) AS users,
        min(event_time) AS first_event,
        max(event_time) AS last_event,
        count_if(low_spo2 OR abnormal_heart_rate OR fever OR high_blood_pressure) AS anomaly_readings
    FROM readings_flagged
    WHERE batch_id = :batch_id AND dt BETWEEN :dt_from AND :dt_to
),

rejects AS (
    SELECT count(*) AS rejected
    FROM rejected
    WHERE batch_id = :batch_id AND dt = :rejected_dt
)

SELECT
    readings.readings,
    readings.users,
    readings.first_event,
    readings.last_event,
    readings.anomaly_readings,
    rejects.rejected,
    CAST(rejects.rejected AS double) / nullif(readings.readings + rejects.rejected, 0) AS reject_rate
FROM readings
CROSS JOIN rejects
