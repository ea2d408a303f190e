-- match.lua: forget's matcher: does a stored value hold a person's name,
-- address or phone in any spelling, and the value with them taken out.
-- Pure functions of strings, no Redis calls: scrub.lua uses them inside
-- Redis, and tests/fuzz/fuzz_scrub.c runs this same text in a plain Lua 5.1
-- (what Redis embeds) with the property "no spelling of the needle is left".
--
-- A value is normalised before it is searched: JSON escapes (\uXXXX with
-- surrogate pairs, \/, \"), %XX and &#NN; escapes are decoded, again and
-- again while that changes something (JSON inside JSON); letters are folded
-- to lower case (ASCII, Latin-1, Latin Extended-A, basic Cyrillic); '+'
-- and runs of white space become one space. Needles are normalised the
-- same way. A name or address matches only between word boundaries (so
-- "Ali" is not found in "quality"); a phone number matches by its last 9
-- digits (less leading zeros) at the end of a group of digits, counting
-- the digits and separators before it ("+44 7700 900123" and
-- "07700-900123" are the same number; a 13-digit time that merely holds
-- those digits in the middle is not). An id (for what is attributed to the
-- person: a notice line "Collaborator c-17 needs ...") matches as a whole
-- id, between characters that cannot be part of an id.

-- Fold case without changing the length in bytes (redaction maps positions
-- of the folded text back to the text).
local function hb_fold2(a, b)
  local c1, c2 = a:byte(), b:byte()
  local cp = (c1 - 0xC0) * 64 + (c2 - 0x80)
  local lo = cp
  if cp >= 0xC0 and cp <= 0xDE and cp ~= 0xD7 then lo = cp + 0x20
  elseif (cp >= 0x100 and cp <= 0x137) or (cp >= 0x14A and cp <= 0x177) then
    if cp % 2 == 0 then lo = cp + 1 end
  elseif (cp >= 0x139 and cp <= 0x148) or (cp >= 0x179 and cp <= 0x17E) then
    if cp % 2 == 1 then lo = cp + 1 end
  elseif cp >= 0x410 and cp <= 0x42F then lo = cp + 0x20
  elseif cp >= 0x400 and cp <= 0x40F then lo = cp + 0x50
  end
  if lo == cp then return a .. b end
  return string.char(0xC0 + math.floor(lo / 64), 0x80 + lo % 64)
end

local function hb_fold(s)
  s = string.lower(s)
  if not s:find('[\195-\197\208]') then return s end
  return (s:gsub('([\195-\197\208])([\128-\191])', hb_fold2))
end

local function hb_utf8(cp)
  if cp < 0x80 then return string.char(cp) end
  if cp < 0x800 then
    return string.char(0xC0 + math.floor(cp / 64), 0x80 + cp % 64)
  end
  if cp < 0x10000 then
    return string.char(0xE0 + math.floor(cp / 4096),
      0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
  end
  if cp > 0x10FFFF then return '?' end
  return string.char(0xF0 + math.floor(cp / 262144),
    0x80 + math.floor(cp / 4096) % 64, 0x80 + math.floor(cp / 64) % 64,
    0x80 + cp % 64)
end

local hb_esc = {['"'] = '"', ['\\'] = '\\', ['/'] = '/', b = '\b',
  f = '\f', n = '\n', r = '\r', t = '\t'}

-- One level of JSON string escapes. An unknown escape loses its backslash.
local function hb_junescape(s)
  if not s:find('\\', 1, true) then return s end
  local out, i = {}, 1
  while true do
    local j = s:find('\\', i, true)
    if not j then out[#out + 1] = s:sub(i); break end
    out[#out + 1] = s:sub(i, j - 1)
    local c = s:sub(j + 1, j + 1)
    local h = s:sub(j + 2, j + 5)
    if c == 'u' and h:find('^%x%x%x%x$') then
      local cp = tonumber(h, 16)
      i = j + 6
      local h2 = s:sub(i + 2, i + 5)
      if cp >= 0xD800 and cp <= 0xDBFF and s:sub(i, i + 1) == '\\u' and
          h2:find('^%x%x%x%x$') then
        local lo = tonumber(h2, 16)
        if lo >= 0xDC00 and lo <= 0xDFFF then
          cp = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00)
          i = i + 6
        end
      end
      out[#out + 1] = hb_utf8(cp)
    else
      out[#out + 1] = hb_esc[c] or c
      i = j + 2
    end
  end
  return table.concat(out)
end

local function hb_hex(h) return string.char(tonumber(h, 16)) end
local function hb_ent(d)
  local n = tonumber(d)
  if n and n < 0x110000 then return hb_utf8(n) end
  return '?'
end
local function hb_entx(h)
  local n = tonumber(h, 16)
  if n and n < 0x110000 then return hb_utf8(n) end
  return '?'
end

local function hb_unescape(s)
  s = hb_junescape(s)
  if s:find('%', 1, true) then s = s:gsub('%%(%x%x)', hb_hex) end
  if s:find('&#', 1, true) then
    s = s:gsub('&#[xX](%x%x?%x?%x?%x?%x?);', hb_entx)
    s = s:gsub('&#(%d%d?%d?%d?%d?%d?%d?);', hb_ent)
  end
  return s
end

-- The form every value and needle is searched in. (Each step looks before
-- it rewrites: most values hold no escape at all, and this runs on every
-- value under the prefix.)
local function hb_escaped(s)
  return s:find('\\', 1, true) or s:find('%', 1, true) or
    s:find('&#', 1, true)
end

local function hb_norm(s)
  for _ = 1, 6 do
    if not hb_escaped(s) then break end
    local t = hb_unescape(s)
    if t == s then break end
    s = t
  end
  s = hb_fold(s)
  if s:find('+', 1, true) then s = s:gsub('%+', ' ') end
  -- White space as one space: only when there is a run or a tab, newline
  -- and so on (plain finds are fast; pattern classes are not).
  if s:find('  ', 1, true) or s:find('\n', 1, true) or
      s:find('\t', 1, true) or s:find('\r', 1, true) or
      s:find('\f', 1, true) or s:find('\v', 1, true) then
    s = s:gsub('%s+', ' ')
  end
  return s
end

-- Word characters: letters, digits, and any byte of a multibyte letter.
local function hb_wordc(c)
  return c ~= '' and (c:find('^[%w_]') ~= nil or c:byte() >= 128)
end

-- The first occurrence of needle in s from init whose ends are word
-- boundaries (a needle that begins or ends with a non-word character needs
-- no boundary there).
local function hb_find(s, needle, init)
  local a = needle:sub(1, 1)
  local z = needle:sub(-1)
  local i = init or 1
  while true do
    local p, q = s:find(needle, i, true)
    if not p then return nil end
    local before = p > 1 and s:sub(p - 1, p - 1) or ''
    local after = s:sub(q + 1, q + 1)
    if not (hb_wordc(a) and hb_wordc(before)) and
        not (hb_wordc(z) and hb_wordc(after)) then
      return p, q
    end
    i = p + 1
  end
end

-- Phone numbers in s: runs of digits and separators. fn(start, end) is
-- called for each stretch from a run's start to a digit that ends a group
-- (the run's end, or a digit before a separator) whose digits end with
-- tail, until it returns something.
local function hb_phone_runs(s, tail, fn)
  local i, nt = 1, #tail
  while true do
    local p, q = s:find('[%d][%d%s%-%.%(%)/]*', i)
    if not p then return nil end
    -- Group by group, keeping the last nt digits so far (never more: a
    -- long run stays linear).
    local last, j = '', p
    while j <= q do
      local a, b = s:find('%d+', j)
      if not a or a > q then break end
      last = last .. s:sub(a, b)
      if #last > nt then last = last:sub(-nt) end
      if last == tail then
        local r1, r2 = fn(p, b)
        if r1 then return r1, r2 end
      end
      j = b + 1
    end
    i = q + 1
  end
end

local function hb_phone_hit(s, tail)
  if tail == '' then return false end
  return hb_phone_runs(s, tail, function() return true end) or false
end

-- Needles from a person's name, email and phone (any may be ''): names
-- shorter than 2 characters and phones with fewer than 6 digits (less
-- leading zeros) are not searched (they would match everywhere).
local function hb_needles(name, email, phone)
  local nd = {subs = {}, tail = ''}
  local function add(s)
    s = hb_norm(s or ''):gsub('^ ', ''):gsub(' $', '')
    if #s >= 2 then nd.subs[#nd.subs + 1] = s end
  end
  add(name)
  -- "Okafor, Amara" too.
  local n = hb_norm(name or ''):gsub('^ ', ''):gsub(' $', '')
  local first, last = n:match('^(.+) ([^ ]+)$')
  if first then add(last .. ', ' .. first) end
  add(email)
  -- The last 9 digits, less leading zeros (a trunk 0 is dropped after a
  -- country code).
  local d = (phone or ''):gsub('%D', '')
  d = d:gsub('^0+', '')
  if #d >= 6 then nd.tail = d:sub(-9) end
  return nd
end

-- One more text to look for (a supporter's name or address), in place.
local function hb_needles_add(nd, s)
  s = hb_norm(s or ''):gsub('^ ', ''):gsub(' $', '')
  if #s >= 2 then nd.subs[#nd.subs + 1] = s end
end

-- The same needles less the name (for other people's profiles: a namesake
-- keeps their name).
local function hb_needles_noname(nd)
  local o = {subs = {}, tail = nd.tail}
  for i = 1, #nd.subs do
    if nd.subs[i]:find('@', 1, true) then o.subs[#o.subs + 1] = nd.subs[i] end
  end
  return o
end

local function hb_idc(c)
  return c ~= '' and c:find('^[%w_:%-]') ~= nil
end

-- Does normalised s hold the id as a whole id?
local function hb_id_in(s, id)
  local i = 1
  while true do
    local p, q = s:find(id, i, true)
    if not p then return false end
    if not hb_idc(p > 1 and s:sub(p - 1, p - 1) or '') and
        not hb_idc(s:sub(q + 1, q + 1)) then
      return true
    end
    i = p + 1
  end
end

-- Does value v hold a needle (or, when id is given, the id)?
local function hb_hits(v, nd, id)
  local s = hb_norm(v)
  for i = 1, #nd.subs do
    if hb_find(s, nd.subs[i]) then return true end
  end
  if hb_phone_hit(s, nd.tail) then return true end
  if id and id ~= '' and hb_id_in(s, hb_fold(id)) then return true end
  return false
end

local HB_GONE = '[forgotten]'

-- Replace each needle found in d (as written, only folded) by HB_GONE.
-- Each pass builds its result once (a value made of the needle over and
-- over stays linear).
local function hb_spans(d, nd)
  local f = hb_fold(d)
  for i = 1, #nd.subs do
    local out, at = {}, 1
    local p, q = hb_find(f, nd.subs[i])
    while p do
      out[#out + 1] = d:sub(at, p - 1)
      out[#out + 1] = HB_GONE
      at = q + 1
      p, q = hb_find(f, nd.subs[i], at)
    end
    if at > 1 then
      out[#out + 1] = d:sub(at)
      d = table.concat(out)
      f = hb_fold(d)
    end
  end
  if nd.tail ~= '' then
    local out, at = {}, 1
    local function cut(a, b)
      if a < at then a = at end
      out[#out + 1] = d:sub(at, a - 1)
      out[#out + 1] = HB_GONE
      at = b + 1
    end
    hb_phone_runs(f, nd.tail, cut)
    if at > 1 then
      out[#out + 1] = d:sub(at)
      d = table.concat(out)
    end
  end
  return d
end

local function hb_jesc1(c)
  if c == '"' then return '\\"' end
  if c == '\\' then return '\\\\' end
  if c == '\n' then return '\\n' end
  return string.format('\\u%04x', c:byte())
end

-- Value v with every needle taken out, keeping a JSON text JSON: each
-- string that holds a needle loses it (the string is rewritten whole if
-- the needle was escaped); with id, a string holding the id becomes
-- "[removed]". nil when the value cannot be cleaned (the caller deletes
-- it).
local function hb_redact(v, nd, id)
  local out, i = {}, 1
  if v:find('"', 1, true) then
    while true do
      local p = v:find('"', i, true)
      if not p then break end
      -- the closing quote: the next one not escaped
      local q = p + 1
      while true do
        local r = v:find('[\\"]', q)
        if not r then q = nil; break end
        if v:sub(r, r) == '"' then q = r; break end
        q = r + 2
      end
      if not q then break end
      out[#out + 1] = v:sub(i, p)
      local t = v:sub(p + 1, q - 1)
      if hb_hits(t, nd, id) then
        local d = hb_junescape(t)
        if id and id ~= '' and hb_id_in(hb_norm(d), hb_fold(id)) then
          d = '[removed]'
        else
          d = hb_spans(d, nd)
          if hb_hits(d, nd, nil) then d = HB_GONE end
        end
        t = d:gsub('[%c"\\]', hb_jesc1)
      end
      out[#out + 1] = t
      out[#out + 1] = '"'
      i = q + 1
    end
    out[#out + 1] = v:sub(i)
    v = table.concat(out)
  elseif not (id and id ~= '' and hb_id_in(hb_norm(v), hb_fold(id))) then
    v = hb_spans(v, nd)
  end
  if hb_hits(v, nd, id) then return nil end
  return v
end
