-- name: daily volume
-- description: Records per day in the curated zone ({{.Daily}}), last 30 days, newest first.
SELECT dt,
       sum(record_count) AS records
FROM {{.Daily}}
WHERE dt >= date_format(current_date - interval '30' day, '%Y-%m-%d')
GROUP BY dt
ORDER BY dt DESC
