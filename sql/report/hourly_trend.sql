-- Readings and anomalous readings per hour (UTC) across the batch's time span.
SELECT
    date_trunc('hour', event_time) AS hour,
    count(*) AS readings,
    count_if(low_spo2 OR abnormal_heart_rate OR fever OR high_blood_pressure) AS anomalies
FROM flagged_files
WHERE batch_id = :batch_id AND dt BETWEEN :dt_from AND :dt_to
GROUP BY date_trunc('hour', event_time)
ORDER BY hour
