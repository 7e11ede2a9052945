-- How long each source has been quiet at :as_of, against its own cadence: the median gap between
-- its consecutive batches over the ingestion days in [window_from, day]. A source seen in that
-- window and not since shows here with its last batch; the caller compares the silence with the
-- cadence and with a fixed maximum.
WITH batches AS (
    SELECT
        source,
        ingested_at
    FROM batch_summaries
    WHERE dt BETWEEN :window_from AND :day AND ingested_at <= :as_of
),

gaps AS (
    SELECT
        source,
        date_diff('second', lag(ingested_at) OVER (PARTITION BY source ORDER BY ingested_at), ingested_at) AS gap_s
    FROM batches
),

ranked AS (
    SELECT
        source,
        gap_s,
        row_number() OVER (PARTITION BY source ORDER BY gap_s) AS pos,
        count(*) OVER (PARTITION BY source) AS n
    FROM gaps
    WHERE gap_s IS NOT NULL
),

cadence AS (
    SELECT
        source,
        avg(gap_s) AS typical_gap_s,
        max(n) AS gaps
    FROM ranked
    WHERE 2 * pos BETWEEN n AND n + 2
    GROUP BY source
),

latest AS (
    SELECT
        source,
        max(ingested_at) AS last_batch_at,
        count(*) AS batches
    FROM batches
    GROUP BY source
)

SELECT
    l.source,
    l.last_batch_at,
    l.batches,
    date_diff('second', l.last_batch_at, :as_of) AS silent_s,
    c.typical_gap_s,
    coalesce(c.gaps, 0) AS gaps
FROM latest AS l
LEFT JOIN cadence AS c ON l.source = c.source
ORDER BY l.source
