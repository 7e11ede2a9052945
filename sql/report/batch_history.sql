-- Earlier batches and their anomaly rates, to tell whether the rate is rising. It reads the stored
-- one-row summaries of the ingestion days in [history_from, history_to], never earlier readings,
-- so what it scans does not grow with the lake.
SELECT
    batch_id,
    ingested_at,
    readings,
    CAST(anomaly_readings AS double) / nullif(readings, 0) AS anomaly_rate
FROM batch_summaries
WHERE
    dt BETWEEN :history_from AND :history_to
    AND coalesce(status, 'processed') = 'processed'
    AND batch_id <> :batch_id
    AND ingested_at < :ingested_at
ORDER BY ingested_at DESC, batch_id
LIMIT :history_n
