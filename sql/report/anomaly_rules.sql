-- One row per anomaly rule: readings that fired it, their share, and how many users they concern.
WITH batch AS (
    SELECT *
    FROM flagged_files
    WHERE batch_id = :batch_id AND dt BETWEEN :dt_from AND :dt_to
),

totals AS (
    SELECT
        count(*) AS readings,
        count_if(low_spo2) AS low_spo2_readings,
        count(DISTINCT CASE WHEN low_spo2 THEN user_id END) AS low_spo2_users,
        count_if(abnormal_heart_rate) AS abnormal_heart_rate_readings,
        count(DISTINCT CASE WHEN abnormal_heart_rate THEN user_id END) AS abnormal_heart_rate_users,
        count_if(fever) AS fever_readings,
        count(DISTINCT CASE WHEN fever THEN user_id END) AS fever_users,
        count_if(high_blood_pressure) AS high_blood_pressure_readings,
        count(DISTINCT CASE WHEN high_blood_pressure THEN user_id END) AS high_blood_pressure_users
    FROM batch
),

rules AS (
    SELECT
        1 AS position,
        'low_spo2' AS rule,
        'SpO2 below ' || CAST(spo2_below AS varchar) || '%' AS label,
        low_spo2_readings AS readings,
        low_spo2_users AS users,
        readings AS total
    FROM totals
    CROSS JOIN anomaly_thresholds
    UNION ALL
    SELECT
        2,
        'abnormal_heart_rate',
        'Heart rate below ' || CAST(heart_rate_below AS varchar) || ' or above '
        || CAST(heart_rate_above AS varchar) || ' bpm',
        abnormal_heart_rate_readings,
        abnormal_heart_rate_users,
        readings
    FROM totals
    CROSS JOIN anomaly_thresholds
    UNION ALL
    SELECT
        3,
        'fever',
        'Temperature above ' || CAST(temp_c_above AS varchar) || ' °C',
        fever_readings,
        fever_users,
        readings
    FROM totals
    CROSS JOIN anomaly_thresholds
    UNION ALL
    SELECT
        4,
        'high_blood_pressure',
        'Blood pressure above ' || CAST(systolic_bp_above AS varchar) || '/'
        || CAST(diastolic_bp_above AS varchar) || ' mmHg',
        high_blood_pressure_readings,
        high_blood_pressure_users,
        readings
    FROM totals
    CROSS JOIN anomaly_thresholds
)

SELECT
    rule,
    label,
    coalesce(readings, 0) AS readings,
    coalesce(CAST(readings AS double) / nullif(total, 0), 0.0) AS rate,
    coalesce(users, 0) AS users
FROM rules
ORDER BY position
