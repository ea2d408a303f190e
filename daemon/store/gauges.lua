-- gauges.lua: what /metrics, STATUS= and `hearback status` show.
-- ARGV: P overdue_ms (said items open since before it are overdue)
-- Returns [inbox backlog, scheduled, next due ms or "", dead entries,
-- said open, said overdue, [stats field, value, ...]].
local nx = redis.call('ZRANGE', k('schedule'), 0, 0, 'WITHSCORES')
return {
  redis.call('XLEN', k('inbox')),
  redis.call('ZCARD', k('schedule')),
  nx[2] or '',
  redis.call('XLEN', k('dead')),
  redis.call('ZCARD', k('said:open')),
  redis.call('ZCOUNT', k('said:open'), '-inf', ARGV[2]),
  redis.call('HGETALL', k('stats'))
}
