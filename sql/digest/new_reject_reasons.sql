-- Reject reasons a source's batches of :day gave that none of its batches gave on the earlier
-- ingestion days of [window_from, day): a new kind of fault at a clinic, however few rows it hit.
WITH reasons AS (
    SELECT
        s.source,
        s.dt,
        r.reason
    FROM batch_summaries AS s
    CROSS JOIN UNNEST(s.reject_reasons) AS r (reason)
    WHERE s.dt BETWEEN :window_from AND :day
),

earlier AS (
    SELECT DISTINCT
        source,
        reason
    FROM reasons
    WHERE dt < :day
)

SELECT
    t.source,
    t.reason,
    count(*) AS batches
FROM reasons AS t
LEFT JOIN earlier AS e ON t.source = e.source AND t.reason = e.reason
WHERE t.dt = :day AND e.reason IS NULL
GROUP BY t.source, t.reason
ORDER BY t.source, t.reason
