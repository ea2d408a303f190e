-- answer.lua: what collaborators say back (SPEC section 9): answers to
-- invitations, their own preferences, and bounces. gate.lua (before this)
-- has the keys; answer.c the C side.
-- ARGV: P op args...
--   ctx mid cid          -> [meeting text|'', collaborator text|'',
--                           answer json|'', [pref field, value...]]
--   set mid cid a now via -> ['same'|'changed'|'nomeeting'|'nocollab', old a|'']
--   pref cid now f v...  -> [field, old|'', new, ...] for what changed
--   who mid addr         -> cid of the invited collaborator with that
--                           address, or ''
--   bounce addr now      -> [cid...] newly marked bouncing
--   summary mid          -> [meeting text|'', [cid, text, answer|''], ...,
--                           venue text|''] for everyone invited who
--                           consents (the venue last, if it has one)
--   sumdue n             -> up to n meeting ids whose summary is due
--   answers mid          -> [cid, answer json, ...]
local op = ARGV[2]

local function rec(t, id)
  local raw = redis.call('GET', k('rec:' .. t .. ':' .. id))
  if not raw then return nil, nil end
  local ok, w = pcall(cjson.decode, raw)
  if ok and type(w) == 'table' and type(w.record) == 'table' then
    return raw, w.record
  end
  return raw, nil
end

-- Everyone a meeting invites: invitees and members of its groups.
local function invited(m)
  local seen, out = {}, {}
  local function add(c)
    if type(c) == 'string' and not seen[c] then seen[c] = true out[#out + 1] = c end
  end
  if type(m.invitees) == 'table' then
    for _, c in ipairs(m.invitees) do add(c) end
  end
  if type(m.groups) == 'table' then
    for _, g in ipairs(m.groups) do
      if type(g) == 'string' then
        for _, c in ipairs(redis.call('SMEMBERS', k('group:' .. g))) do add(c) end
      end
    end
  end
  table.sort(out)
  return out
end

if op == 'ctx' then
  local mraw = ''
  if ARGV[3] ~= '' then mraw = (rec('meeting', ARGV[3])) or '' end
  local craw = (rec('collaborator', ARGV[4])) or ''
  local a = ''
  if ARGV[3] ~= '' then a = redis.call('HGET', k('ans:' .. ARGV[3]), ARGV[4]) or '' end
  return {mraw, craw, a, redis.call('HGETALL', k('pref:' .. ARGV[4]))}

elseif op == 'set' then
  local mid, cid, ans, now, via = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
  if not rec('meeting', mid) then return {'nomeeting', ''} end
  if not rec('collaborator', cid) then return {'nocollab', ''} end
  local key = k('ans:' .. mid)
  local old = gate_answer(mid, cid)
  if old and old.a == ans and not old.stale then return {'same', old.a} end
  redis.call('HSET', key, cid, cjson.encode({a = ans, at = tonumber(now), via = via, who = cid}))
  redis.call('HINCRBY', k('stats'), 'answer:' .. ans, 1)
  redis.call('XADD', k('audit'), '*', 'event', 'answered', 'meeting', mid,
    'collaborator', cid, 'answer', ans, 'via', via, 'at', now)
  return {'changed', old and old.a or ''}

elseif op == 'pref' then
  local cid, now = ARGV[3], ARGV[4]
  local key = k('pref:' .. cid)
  local out = {}
  for i = 5, #ARGV - 1, 2 do
    local f, v = ARGV[i], ARGV[i + 1]
    local old = redis.call('HGET', key, f) or ''
    if old ~= v then
      if v == '' then redis.call('HDEL', key, f) else redis.call('HSET', key, f, v) end
      out[#out + 1] = f
      out[#out + 1] = old
      out[#out + 1] = v
      if string.sub(f, 1, 5) == 'stop:' and v == '1' then
        redis.call('HINCRBY', k('stats'), 'unsubscribe:' .. string.sub(f, 6), 1)
      elseif f == 'consent' and v == 'false' then
        redis.call('HINCRBY', k('stats'), 'unsubscribe:everything', 1)
      end
      redis.call('XADD', k('audit'), '*', 'event', 'preference', 'collaborator', cid,
        'field', f, 'value', v, 'at', now)
    end
  end
  if #out > 0 then
    if redis.call('HLEN', key) == 0 then
      redis.call('DEL', key)
    else
      redis.call('HSET', key, 'id', cid, 'at', now)
    end
  end
  return out

elseif op == 'who' then
  local _, m = rec('meeting', ARGV[3])
  if not m then return '' end
  local addr = string.lower(ARGV[4])
  for _, c in ipairs(invited(m)) do
    local _, r = rec('collaborator', c)
    if r and type(r.email) == 'string' and string.lower(r.email) == addr then
      return c
    end
  end
  return ''

elseif op == 'bounce' then
  local addr, now = string.lower(ARGV[3]), ARGV[4]
  local out = {}
  for _, c in ipairs(redis.call('SMEMBERS', k('collaborators'))) do
    local _, r = rec('collaborator', c)
    if r and type(r.email) == 'string' and string.lower(r.email) == addr then
      local key = k('pref:' .. c)
      if redis.call('HGET', key, 'bouncing') ~= addr then
        redis.call('HSET', key, 'bouncing', addr, 'id', c)
        redis.call('HINCRBY', k('stats'), 'bounce', 1)
        redis.call('XADD', k('audit'), '*', 'event', 'bouncing', 'collaborator', c, 'at', now)
        out[#out + 1] = c
      end
    end
  end
  table.sort(out)
  return out

elseif op == 'summary' then
  local mraw, m = rec('meeting', ARGV[3])
  if not m then return {''} end
  local out = {mraw}
  for _, c in ipairs(invited(m)) do
    local raw, r = rec('collaborator', c)
    if r and r.consent == true then
      out[#out + 1] = {c, raw, redis.call('HGET', k('ans:' .. ARGV[3]), c) or ''}
    end
  end
  if type(m.venue) == 'string' then out[#out + 1] = (rec('venue', m.venue)) or '' end
  return out

elseif op == 'sumdue' then
  return redis.call('SPOP', k('sumdue'), tonumber(ARGV[3]))

elseif op == 'answers' then
  return redis.call('HGETALL', k('ans:' .. ARGV[3]))
end
return redis.error_reply('hearback answer: unknown op ' .. tostring(op))
