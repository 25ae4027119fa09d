-- name: quarantine by reason
-- description: Quarantined records per reason code over the last 30 days, from {{.Quarantine}} (dt is the run date). A record with several problems counts once per code.
SELECT code AS reason,
       count(*) AS records,
       min(_quarantined_at) AS first_seen,
       max(_quarantined_at) AS last_seen
FROM {{.Quarantine}}
CROSS JOIN UNNEST(regexp_extract_all(_quarantine_reason, '(?:^|; )([a-z]+(?:_[a-z]+)+)[(:]', 1)) AS t(code)
WHERE dt >= date_format(current_date - interval '30' day, '%Y-%m-%d')
GROUP BY code
ORDER BY records DESC
