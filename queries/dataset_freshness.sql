-- name: latest partition
-- description: Newest dt partition of the processed ({{.Processed}}) and curated ({{.Daily}}) tables and how many days it lags today (UTC); the alarm threshold is {{.FreshnessHours}} hours. Null when nothing arrived in the last 30 days.
SELECT 'processed' AS zone,
       max(dt) AS latest_dt,
       date_diff('day', date(max(dt)), current_date) AS days_behind
FROM {{.Processed}}
WHERE dt >= date_format(current_date - interval '30' day, '%Y-%m-%d')
UNION ALL
SELECT 'curated' AS zone,
       max(dt) AS latest_dt,
       date_diff('day', date(max(dt)), current_date) AS days_behind
FROM {{.Daily}}
WHERE dt >= date_format(current_date - interval '30' day, '%Y-%m-%d')
