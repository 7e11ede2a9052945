-- Each source's day: batches, rows and the rates the digest monitors, over the ingestion days in
-- [window_from, day]. It reads the one-row batch summaries of those days only (dt is the partition
-- column), so a digest scans the same few megabytes on a lake of any age.
WITH batches AS (
    SELECT
        source,
        dt,
        coalesce(status, 'processed') AS status,  -- older rows: processed batches
        coalesce(readings, 0) AS readings,
        coalesce(rejected, 0) AS rejected,
        coalesce(anomaly_readings, 0) AS anomaly_readings,
        -- rule counts: NULL in rows written before they were stored, so unknown rather than 0
        low_spo2,
        abnormal_heart_rate,
        fever,
        high_blood_pressure,
        ingested_at
    FROM batch_summaries
    WHERE dt BETWEEN :window_from AND :day
)

SELECT
    source,
    dt AS day,
    count_if(status = 'processed') AS batches,
    count_if(status = 'failed') AS failed_files,
    sum(readings + rejected) AS rows,
    sum(readings) AS readings,
    sum(rejected) AS rejected,
    sum(anomaly_readings) AS anomaly_readings,
    CAST(sum(rejected) AS double) / nullif(sum(readings + rejected), 0) AS reject_rate,
    CAST(sum(anomaly_readings) AS double) / nullif(sum(readings), 0) AS anomaly_rate,
    CAST(sum(low_spo2) AS double) / nullif(sum(readings), 0) AS low_spo2_rate,
    CAST(sum(abnormal_heart_rate) AS double) / nullif(sum(readings), 0) AS abnormal_heart_rate_rate,
    CAST(sum(fever) AS double) / nullif(sum(readings), 0) AS fever_rate,
    CAST(sum(high_blood_pressure) AS double) / nullif(sum(readings), 0) AS high_blood_pressure_rate,
    max(ingested_at) AS last_batch_at
FROM batches
GROUP BY source, dt
ORDER BY source, day
