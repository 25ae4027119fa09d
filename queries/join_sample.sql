-- name: sample
-- description: 100 rows of {{.Join}} from the last 7 days, newest day and busiest {{join .On ", "}} first.
SELECT dt,
       {{join .Columns ",\n       "}}
FROM {{.Join}}
WHERE dt >= date_format(current_date - interval '7' day, '%Y-%m-%d')
ORDER BY dt DESC, {{index .Datasets 0}}_record_count DESC
LIMIT 100
