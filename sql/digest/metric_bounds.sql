-- Each source's day against its own recent history, as Glue Data Quality reports a dynamic rule:
-- the actual value, the expected value (the median of the source's earlier days with data in
-- [window_from, day)), and robust bounds: median +/- k * 1.4826 * MAD (the scaled median absolute
-- deviation estimates a standard deviation, so k reads like a z-score), widened to at least
-- min_spread times the median and to k sampling errors of the day itself (a rate of p over n rows:
-- sqrt(p(1 - p) / n); a count c: sqrt(c)), so a small day's chance wobble is not an anomaly.
-- history_days says how many earlier days the verdict rests on; the caller calls a source with
-- fewer than it trusts "learning", never anomalous. Rows written before the digest existed have no
-- status (they are processed batches) and no rule counts (their rule rates are unknown, not 0).
WITH daily AS (
    SELECT
        source,
        dt,
        sum(coalesce(readings, 0) + coalesce(rejected, 0)) AS row_count,
        sum(readings) AS readings,
        CAST(sum(coalesce(rejected, 0)) AS double)
        / nullif(sum(coalesce(readings, 0) + coalesce(rejected, 0)), 0) AS reject_rate,
        CAST(sum(coalesce(anomaly_readings, 0)) AS double) / nullif(sum(readings), 0) AS anomaly_rate,
        CAST(sum(low_spo2) AS double) / nullif(sum(readings), 0) AS low_spo2_rate,
        CAST(sum(abnormal_heart_rate) AS double)
        / nullif(sum(readings), 0) AS abnormal_heart_rate_rate,
        CAST(sum(fever) AS double) / nullif(sum(readings), 0) AS fever_rate,
        CAST(sum(high_blood_pressure) AS double)
        / nullif(sum(readings), 0) AS high_blood_pressure_rate
    FROM batch_summaries
    WHERE dt BETWEEN :window_from AND :day AND coalesce(status, 'processed') = 'processed'
    GROUP BY source, dt
),

metrics AS (
    SELECT source, dt, 'row_count' AS metric, CAST(row_count AS double) AS value, NULL AS n FROM daily
    UNION ALL
    SELECT source, dt, 'reject_rate' AS metric, reject_rate AS value, row_count AS n FROM daily
    UNION ALL
    SELECT source, dt, 'anomaly_rate' AS metric, anomaly_rate AS value, readings AS n FROM daily
    UNION ALL
    SELECT source, dt, 'low_spo2_rate' AS metric, low_spo2_rate AS value, readings AS n FROM daily
    UNION ALL
    SELECT
        source, dt, 'abnormal_heart_rate_rate' AS metric, abnormal_heart_rate_rate AS value, readings AS n
    FROM daily
    UNION ALL
    SELECT source, dt, 'fever_rate' AS metric, fever_rate AS value, readings AS n FROM daily
    UNION ALL
    SELECT
        source, dt, 'high_blood_pressure_rate' AS metric, high_blood_pressure_rate AS value, readings AS n
    FROM daily
),

history AS (
    SELECT
        source,
        metric,
        value,
        row_number() OVER (PARTITION BY source, metric ORDER BY value) AS pos,
        count(*) OVER (PARTITION BY source, metric) AS n
    FROM metrics
    WHERE dt < :day AND value IS NOT NULL
),

medians AS (
    -- the middle value, or the mean of the two middle values: positions p with n <= 2p <= n + 2
    SELECT
        source,
        metric,
        avg(value) AS expected,
        max(n) AS history_days
    FROM history
    WHERE 2 * pos BETWEEN n AND n + 2
    GROUP BY source, metric
),

deviations AS (
    SELECT
        h.source,
        h.metric,
        abs(h.value - m.expected) AS deviation,
        row_number() OVER (PARTITION BY h.source, h.metric ORDER BY abs(h.value - m.expected)) AS pos,
        count(*) OVER (PARTITION BY h.source, h.metric) AS n
    FROM history AS h
    INNER JOIN medians AS m ON h.source = m.source AND h.metric = m.metric
),

mads AS (
    SELECT
        source,
        metric,
        avg(deviation) AS mad
    FROM deviations
    WHERE 2 * pos BETWEEN n AND n + 2
    GROUP BY source, metric
),

spreads AS (
    SELECT
        m.source,
        m.metric,
        m.expected,
        m.history_days,
        greatest(:k * 1.4826 * d.mad, :min_spread * abs(m.expected)) AS spread
    FROM medians AS m
    INNER JOIN mads AS d ON m.source = d.source AND m.metric = d.metric
),

today AS (
    SELECT
        t.source,
        t.metric,
        t.value,
        s.expected,
        s.history_days,
        greatest(
            s.spread,
            -- a rate: p(1 - p) / n; a count (n is NULL): the count itself, as for Poisson noise
            :k * sqrt(coalesce(s.expected * (1 - s.expected) / nullif(t.n, 0), s.expected))
        ) AS spread
    FROM metrics AS t
    LEFT JOIN spreads AS s ON t.source = s.source AND t.metric = s.metric
    WHERE t.dt = :day AND t.value IS NOT NULL
)

SELECT
    source,
    metric,
    value AS actual,
    expected,
    expected - spread AS lower_bound,
    expected + spread AS upper_bound,
    coalesce(history_days, 0) AS history_days
FROM today
ORDER BY source, metric
