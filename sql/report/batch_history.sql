-- Earlier batches of the dataset and their anomaly rates, to tell whether the rate is rising.
-- The dt window bounds what Athena scans however large the lake grows.
WITH earlier AS (
    SELECT
        batch_id,
        min(ingested_at) AS ingested_at,
        count(*) AS readings,
        count_if(low_spo2 OR abnormal_heart_rate OR fever OR high_blood_pressure) AS anomalies
    FROM readings_flagged
    WHERE dt >= :history_from AND batch_id <> :batch_id AND ingested_at < :ingested_at
    GROUP BY batch_id
)

SELECT
    batch_id,
    ingested_at,
    readings,
    CAST(anomalies AS double) / nullif(readings, 0) AS anomaly_rate
FROM earlier
ORDER BY ingested_at DESC, batch_id
LIMIT :history_n
