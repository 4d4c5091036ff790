"""The Lua scripts of ``RedisBasketStore``: every change of a basket is one script, so
bounds are checked and the change written atomically (no read-modify-write in Python).

A basket is one JSON value (``cjson``, built into Redis's Lua):
``{"etag", "t" (update time, Unix ms as text), "items": [{"p" product uuid, "n" title,
"q" quantity, "u" unit price (minor units as text), "pc" price changed, "c" catalog unit
price (text, when "pc"), "ua" unavailable}]}``; an empty basket is no key at all.  Keys
(``P`` is the store's prefix): ``P b:<user>`` the basket, ``P p:<product>`` what the
catalog's events said of the product (``price``, ``archived``), ``P p:<product>:baskets``
the users whose basket holds it.  The scripts derive the index keys from the basket (see
docs/adr/0031-basket-in-redis.md: one Redis node, not Redis Cluster).

Customer scripts take ``KEYS[1]`` = the basket and ``ARGV`` = prefix, user, new etag,
now (ms), TTL (ms), then their own arguments; they return ``{status, basket JSON or "",
PTTL ms}`` or ``{error, detail}``.
"""

from __future__ import annotations

_PRELUDE = """
local prefix, user, etag, now, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local function load(key)
  local raw = redis.call('GET', key)
  if not raw then return nil end
  return cjson.decode(raw)
end
local function find(b, product)
  for i, line in ipairs(b.items) do
    if line.p == product then return i, line end
  end
  return nil, nil
end
local function index(product) return prefix .. 'p:' .. product .. ':baskets' end
local function current(b)
  if not b then return {'ok', '', 0} end
  return {'ok', redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}
end
local function save(b)
  if #b.items == 0 then
    redis.call('DEL', KEYS[1])
    return {'ok', '', 0}
  end
  b.etag, b.t = etag, now
  local raw = cjson.encode(b)
  redis.call('SET', KEYS[1], raw, 'PX', ttl)
  for _, line in ipairs(b.items) do
    local key = index(line.p)
    redis.call('SADD', key, user)
    if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
  end
  return {'ok', raw, ttl}
end
"""

GET = """
return {'ok', redis.call('GET', KEYS[1]) or '', redis.call('PTTL', KEYS[1])}
"""

ADD = (
    _PRELUDE
    + """
local product, title, qty, price = ARGV[6], ARGV[7], tonumber(ARGV[8]), ARGV[9]
local stock, most, lines = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
local known = redis.call('HMGET', KEYS[2], 'price', 'archived')
if known[2] == '1' then return {'archived', ''} end
local b = load(KEYS[1]) or {items = {}}
local _, line = find(b, product)
if line then
  local q = line.q + qty
  if q > most then return {'quantity', tostring(line.q)} end
  if q > stock then return {'stock', tostring(q)} end
  line.q = q
  if not line.pc then
    local newer = nil
    if price ~= line.u then
      newer = price
    elseif known[1] and known[1] ~= line.u then
      newer = known[1]
    end
    if newer then line.pc, line.c = true, newer end
  end
else
  if #b.items >= lines then return {'lines', tostring(#b.items)} end
  if qty > most then return {'quantity', '0'} end
  if qty > stock then return {'stock', tostring(qty)} end
  line = {p = product, n = title, q = qty, u = price, pc = false, ua = false}
  if known[1] and known[1] ~= price then line.pc, line.c = true, known[1] end
  table.insert(b.items, line)
end
return save(b)
"""
)

SET_QUANTITY = (
    _PRELUDE
    + """
local product, qty, most = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8])
local b = load(KEYS[1])
if not b then return {'missing', ''} end
local _, line = find(b, product)
if not line then return {'missing', ''} end
if qty < 1 or qty > most then return {'quantity', tostring(line.q)} end
line.q = qty
return save(b)
"""
)

REMOVE = (
    _PRELUDE
    + """
local b = load(KEYS[1])
if not b then return current(b) end
local i = find(b, ARGV[6])
if not i then return current(b) end
table.remove(b.items, i)
redis.call('SREM', index(ARGV[6]), user)
return save(b)
"""
)

CLEAR = (
    _PRELUDE
    + """
local b = load(KEYS[1])
if not b then return current(b) end
if ARGV[6] ~= '' and b.etag ~= ARGV[6] then
  local kept = current(b)
  kept[1] = 'kept'
  return kept
end
for _, line in ipairs(b.items) do redis.call('SREM', index(line.p), user) end
redis.call('DEL', KEYS[1])
return {'ok', '', 0}
"""
)

ACKNOWLEDGE = (
    _PRELUDE
    + """
local b = load(KEYS[1])
local seen = ARGV[6]
if seen ~= '' and (not b or b.etag ~= seen) then return {'etag', b and b.etag or ''} end
if not b then return current(b) end
local kept, changed = {}, false
for _, line in ipairs(b.items) do
  if line.ua then
    redis.call('SREM', index(line.p), user)
    changed = true
  else
    if line.pc then
      line.u, line.pc, line.c = line.c, false, nil
      changed = true
    end
    table.insert(kept, line)
  end
end
if not changed then return current(b) end
b.items = kept
return save(b)
"""
)

_CATALOG_EVENT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local prefix, product, etag = ARGV[1], ARGV[2], ARGV[3]
redis.call('HSET', KEYS[2], unpack(FIELDS))
redis.call('PEXPIRE', KEYS[2], ARGV[5])
local seen = 0
for _, user in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local key = prefix .. 'b:' .. user
  local raw = redis.call('GET', key)
  local b, line = nil, nil
  if raw then
    b = cjson.decode(raw)
    for _, l in ipairs(b.items) do if l.p == product then line = l end end
  end
  if not line then
    redis.call('SREM', KEYS[3], user)
  else
    FLAG(line)
    b.etag = etag
    redis.call('SET', key, cjson.encode(b), 'KEEPTTL')
    seen = seen + 1
  end
end
redis.call('SET', KEYS[1], '1', 'PX', ARGV[4])
return seen
"""

PRICE_CHANGED = _CATALOG_EVENT.replace("unpack(FIELDS)", "'price', ARGV[6]").replace(
    "FLAG(line)",
    "if line.u == ARGV[6] then line.pc, line.c = false, nil"
    " else line.pc, line.c = true, ARGV[6] end",
)
"""``KEYS`` = inbox key, product record, product index; ``ARGV`` = prefix, product, new
etag, inbox TTL (ms), record TTL (ms), price (minor units).  -1 when applied before."""

ARCHIVED = _CATALOG_EVENT.replace("unpack(FIELDS)", "'archived', '1'").replace(
    "FLAG(line)", "line.ua = true"
)
"""As ``PRICE_CHANGED`` without the price: every line of the product becomes unavailable."""
