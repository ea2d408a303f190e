-- lib.lua: the head of every hearback script (scripts.S puts it in front
-- of each one). store.h has the key layout.
--
-- ARGV[1] is the key prefix, "{P}:"; k(name) is the full name of a key.
-- A pending delivery d:<did> is on the schedule and in two indexes,
-- cd:<collaborator> and md:<meeting> (either may be ""): dindex and
-- dunindex are the only code that keeps those indexes.
local P = ARGV[1]
local function k(n) return P .. n end

local function dindex(did, cid, mid)
  if cid and cid ~= '' then redis.call('SADD', k('cd:' .. cid), did) end
  if mid and mid ~= '' then redis.call('SADD', k('md:' .. mid), did) end
end

local function dunindex(did)
  local h = redis.call('HMGET', k('d:' .. did), 'cid', 'mid')
  if h[1] and h[1] ~= '' then redis.call('SREM', k('cd:' .. h[1]), did) end
  if h[2] and h[2] ~= '' then redis.call('SREM', k('md:' .. h[2]), did) end
end


-- A delivery held behind another (commit.lua's DNEW "after"): its hash has
-- after (the guard's id), after_fresh and after_lease, it is in the set
-- after:<guard>, and it waits on the schedule at the guard's lease end.
-- When the guard settles (sent, retried, dead, given back) each held one
-- is put back at its due time: lease.lua decides then whether it goes.
local function after_release(guard)
  local ak = k('after:' .. guard)
  for _, did in ipairs(redis.call('SMEMBERS', ak)) do
    local h = redis.call('HMGET', k('d:' .. did), 'after', 'due', 'state')
    if h[1] == guard and h[3] == 'scheduled' then
      redis.call('ZADD', k('schedule'), h[2], did)
    end
  end
  redis.call('DEL', ak)
end
