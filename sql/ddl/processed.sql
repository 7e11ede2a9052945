-- The processed readings: typed, one row per accepted reading, partitioned by event date (UTC).
-- Partition projection on dt means new partitions are queryable without a crawler or MSCK REPAIR.
CREATE EXTERNAL TABLE IF NOT EXISTS processed (
    event_time timestamp,
    user_id string,
    heart_rate int,
    spo2 int,
    steps int,
    temp_c double,
    systolic_bp int,
    diastolic_bp int,
    batch_id string,
    source_line bigint,
    ingested_at timestamp
)
PARTITIONED BY (dt string)
STORED AS PARQUET
LOCATION :location
TBLPROPERTIES (
    'parquet.compression' = 'ZSTD',
    'projection.enabled' = 'true',
    'projection.dt.type' = 'date',
    'projection.dt.format' = 'yyyy-MM-dd',
    'projection.dt.range' = '2000-01-01,NOW+1DAYS',
    'projection.dt.interval' = '1',
    'projection.dt.interval.unit' = 'DAYS',
    'storage.location.template' = :location_template
)
