SELECT ts, event_id, account_id, region, log_group, log_stream, message
FROM "${database}"."${table}"
WHERE strpos(message, ?) > 0
  AND dt BETWEEN ? AND ?
ORDER BY ts, event_id
