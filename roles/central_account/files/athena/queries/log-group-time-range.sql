SELECT ts, event_id, account_id, region, log_group, log_stream, message
FROM "${database}"."${table}"
WHERE log_group = ?
  AND dt BETWEEN ? AND ?
  AND ts >= ? AND ts < ?
ORDER BY ts, event_id
