-- The anomaly rule thresholds: the one place they live. flagged_files applies them, and the
-- report reads them from here to label its rules, so a change here changes both.
CREATE OR REPLACE VIEW anomaly_thresholds AS
SELECT
    92 AS spo2_below,
    60 AS heart_rate_below,
    160 AS heart_rate_above,
    38.0 AS temp_c_above,
    140 AS systolic_bp_above,
    90 AS diastolic_bp_above
