SELECT ts, event_id, account_id, region, log_group, log_stream, message
FROM (
  SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY ts) AS copy_number
  FROM "${database}"."${table}"
  WHERE dt BETWEEN ? AND ?
) AS events
WHERE copy_number = 1
ORDER BY ts, event_id
