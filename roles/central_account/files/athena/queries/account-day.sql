SELECT ts, event_id, account_id, region, log_group, log_stream, message
FROM "${database}"."${table}"
WHERE account = ? AND dt = ?
ORDER BY ts, event_id
