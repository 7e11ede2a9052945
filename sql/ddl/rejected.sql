-- Rejected rows: every field as the file spelled it, the line number and every reason.
-- Partitioned by ingestion date, because a rejected row's own event_time may be unreadable.
CREATE EXTERNAL TABLE IF NOT EXISTS rejected (
    event_time string,
    user_id string,
    heart_rate string,
    spo2 string,
    steps string,
    temp_c string,
    systolic_bp string,
    diastolic_bp string,
    raw_line string,
    reasons array<string>,
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
