-- Why rows were rejected: a row with several reasons counts once under each.
WITH reasons AS (
    SELECT reason
    FROM rejected_files
    CROSS JOIN UNNEST(reasons) AS r (reason)
    WHERE batch_id = :batch_id AND dt = :rejected_dt
)

SELECT
    reason,
    count(*) AS rows
FROM reasons
GROUP BY reason
ORDER BY rows DESC, reason
