{{- if .GroupBy -}}
-- name: top values
-- description: The 20 most frequent {{join .GroupBy ", "}} values of the last 7 days, from {{.Daily}}.
SELECT {{join .GroupBy ", "}},
       sum(record_count) AS records
FROM {{.Daily}}
WHERE dt >= date_format(current_date - interval '7' day, '%Y-%m-%d')
GROUP BY {{join .GroupBy ", "}}
ORDER BY records DESC
LIMIT 20
{{- else -}}
-- name: top keys
-- description: The 20 most recently changed keys ({{join .Key ", "}}) of the last 7 days, from {{.Processed}}; the processed table holds one row per key, so recency is what ranks them.
SELECT {{join .Key ", "}},
       {{.EventTime}},
       dt
FROM {{.Processed}}
WHERE dt >= date_format(current_date - interval '7' day, '%Y-%m-%d')
  AND NOT _is_deleted
ORDER BY {{.EventTime}} DESC
LIMIT 20
{{- end}}
