-- digest.lua: the overdue "you said" digest.
-- ARGV: P now_ms due_ms every_ms coordinator max_age_ms
-- Said items open longer than due_ms, grouped by coordinator (the said
-- record's, else the default); a coordinator whose last digest is at least
-- every_ms old gets one digest delivery (kind "digest"), made here so that
-- only one daemon makes it. Returns how many digests were made.
local now = tonumber(ARGV[2])
local every = tonumber(ARGV[4])
local ids = redis.call('ZRANGEBYSCORE', k('said:open'), '-inf', now - tonumber(ARGV[3]), 'WITHSCORES')
local groups, order = {}, {}
for i = 1, #ids, 2 do
  local raw = redis.call('GET', k('rec:said:' .. ids[i]))
  if raw then
    local ok, w = pcall(cjson.decode, raw)
    local c = ARGV[5]
    local m = nil
    if ok and type(w) == 'table' and type(w.record) == 'table' then
      if type(w.record.coordinator) == 'string' then c = w.record.coordinator end
      if type(w.record.meeting) == 'string' then m = w.record.meeting end
    end
    if not groups[c] then groups[c] = {} order[#order + 1] = c end
    table.insert(groups[c], {ids[i], tonumber(ids[i + 1]), m})
  else
    redis.call('ZREM', k('said:open'), ids[i])
  end
end
local made = 0
for _, c in ipairs(order) do
  local last = tonumber(redis.call('GET', k('digest:' .. c)) or '0')
  if last + every <= now then
    redis.call('SET', k('digest:' .. c), now)
    local did = 'digest:' .. string.sub(redis.sha1hex(c), 1, 12) .. ':' .. now
    local items, refs, seen = {}, {}, {}
    for _, it in ipairs(groups[c]) do
      items[#items + 1] = {id = it[1], at = it[2]}
      refs[#refs + 1] = 'rec:said:' .. it[1]
      if it[3] and not seen[it[3]] then seen[it[3]] = true refs[#refs + 1] = 'rec:meeting:' .. it[3] end
    end
    redis.call('HSET', k('d:' .. did), 'state', 'scheduled', 'cid', '', 'mid', '', 'due', now,
      'kind', 'digest', 'refs', table.concat(refs, ' '), 'to', c,
      'data', cjson.encode({items = items}), 'src', 'digest', 'created', now,
      'deadline', now + tonumber(ARGV[6]), 'attempts', 0)
    redis.call('ZADD', k('schedule'), now, did)
    made = made + 1
  end
end
return made
