-- The users with the most anomalous readings in the batch, and which rules they fired.
WITH per_user AS (
    SELECT
        user_id,
        count(*) AS readings,
        count_if(low_spo2 OR abnormal_heart_rate OR fever OR high_blood_pressure) AS anomalies,
        count_if(low_spo2) AS low_spo2,
        count_if(abnormal_heart_rate) AS abnormal_heart_rate,
        count_if(fever) AS fever,
        count_if(high_blood_pressure) AS high_blood_pressure
    FROM flagged_files
    WHERE batch_id = :batch_id AND dt BETWEEN :dt_from AND :dt_to
    GROUP BY user_id
)

SELECT *
FROM per_user
WHERE anomalies > 0
ORDER BY anomalies DESC, user_id
LIMIT :top_n
