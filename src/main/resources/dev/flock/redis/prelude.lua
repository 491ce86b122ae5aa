-- Shared prelude, prepended to every script below (Scripts.java sends prelude + body as one script).
-- KEYS[1] - the room's members key (what a Redis Cluster routes the script by, issue 23); the other key names are
-- computed here from ARGV[1], the room id as encoded for keys (KeyLayout.roomArg: ':' and '%' percent-encoded, in
-- the cluster layout '{' and '}' too), and from the raw user ids, which enc() encodes as Keys.encode does.
-- ARGV[1] - room id, as encoded for keys
-- CLUSTER (the line Scripts.java puts first): false for the original layout, true for Redis Cluster's, where every
-- key of a room is behind the hash tag {<room>}, so all of them share the members key's slot.
-- Defines: keyOf(r, kind, u) and membersOf(r), the names below for any room r; room, mkey (flock:room:<room>:members; cluster: flock:{<room>}:members), pkey(u)
-- (flock:presence:<room>:<user>; cluster: flock:{<room>}:presence:<user>; hash: metadata, joinedAt), ckey(u)
-- (flock:conns:<room>:<user>; cluster: flock:{<room>}:conns:<user>; zset: connection id scored by expiry, epoch ms),
-- kkey(u) (flock:cursor:<room>:<user>; cluster: flock:{<room>}:cursor:<user>; hash: x, y, timestamp); now (Redis
-- TIME, epoch ms, so every instance shares one
-- clock); alive(u) (prunes u's expired connections; true while one remains or the presence hash exists);
-- drop(u, reason) (removes u from the members set and deletes u's presence, cursor and connections keys); index (the room
-- index flock:rooms, zset: room id as encoded for keys, scored by the latest expiry, epoch ms, of a connection written
-- in the room), listed(expiry) (keeps the room in it while its members set exists), unlisted() (takes it out once the
-- members set is gone). The index is how a surviving instance finds rooms nobody is left to sweep (due.lua). In a
-- cluster it would be a key in another slot: there is none, and instances SCAN every master instead.
-- WROTE, FOREIGN, noteForeign(u), wrote(u, expiry), entries(u): besides connection ids, a user's connections set holds
-- WROTE, scored by the latest presence-hash expiry any instance of ours wrote, and, while an original Node instance
-- keeps the user alive (it pushes out the hash's expiry and has no entry here), FOREIGN, scored by that expiry.
-- noteForeign compares the hash's expiry with WROTE: a later one was written by someone else. FOREIGN counts as a
-- live entry, so our last connection leaving does not drop a user an original still holds; WROTE never counts
-- (entries(u) is the number of live entries but WROTE).
-- Webhook events (issue 19): event(type, u, reason, meta) appends one to the outbox stream flock:webhooks (fields type,
-- room (as encoded for keys), user, reason, meta, t (epoch ms), n (flock:webhooks:seq, one more per event, so a
-- deliverer sees a gap where the bounded stream dropped events)), in the same script that took the decision, when the
-- type is in HOOKS; the stream keeps at most HOOK_MAX entries (MAXLEN). HOOKS and HOOK_MAX are defined in a line the
-- server puts before this prelude, from FLOCK_WEBHOOK_EVENTS and FLOCK_WEBHOOK_MAX_PENDING (an empty HOOKS without
-- webhooks). In a cluster the outbox is in another slot: the event goes to the room's stream flock:{<room>}:webhooks
-- (no n), which WebhookRelay.java moves to the outbox flock:{webhooks}, numbering it there.
-- member(u, meta) makes u present (room.occupied for the room's first user, then user.joined);
-- drop(u, reason) removes u (user.left with the reason, then room.vacated for the last).

local function enc(s)
  if string.find(s, '[:%%]') then
    s = string.gsub(s, '%%', '%%25')
    s = string.gsub(s, ':', '%%3A')
  end
  return s
end
-- the key of a user's hash or set of one kind ('presence', 'conns', 'cursor') in room r (as encoded for keys)
local function keyOf(r, kind, u)
  if CLUSTER then
    return 'flock:{' .. r .. '}:' .. kind .. ':' .. enc(u)
  end
  return 'flock:' .. kind .. ':' .. r .. ':' .. enc(u)
end
local function membersOf(r)
  if CLUSTER then
    return 'flock:{' .. r .. '}:members'
  end
  return 'flock:room:' .. r .. ':members'
end
local room = ARGV[1]
local mkey = membersOf(room)
local function pkey(u) return keyOf(room, 'presence', u) end
local function ckey(u) return keyOf(room, 'conns', u) end
local function kkey(u) return keyOf(room, 'cursor', u) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local WROTE, FOREIGN, GRACED = '~wrote', '~foreign', '~g:'
-- true when every live entry of u's connections set but the markers is a graced one (see grace.lua)
local function onlyGraced(u)
  local live = redis.call('ZRANGEBYSCORE', ckey(u), '(' .. now, '+inf')
  local graced = 0
  for _, c in ipairs(live) do
    if string.sub(c, 1, 3) == GRACED then
      graced = graced + 1
    elseif c ~= WROTE then
      return false
    end
  end
  return graced > 0
end
-- a return takes the user over: their graced entries go
local function ungrace(u)
  for _, c in ipairs(redis.call('ZRANGE', ckey(u), 0, -1)) do
    if string.sub(c, 1, 3) == GRACED then
      redis.call('ZREM', ckey(u), c)
    end
  end
end
local function entries(u)
  local n = redis.call('ZCOUNT', ckey(u), '(' .. now, '+inf')
  local w = redis.call('ZSCORE', ckey(u), WROTE)
  if w and tonumber(w) > now then
    n = n - 1
  end
  return n
end
local function alive(u)
  redis.call('ZREMRANGEBYSCORE', ckey(u), '-inf', now)
  return entries(u) > 0 or redis.call('EXISTS', pkey(u)) == 1
end
local index = 'flock:rooms'
local function listed(expiry)
  if not CLUSTER and redis.call('EXISTS', mkey) == 1 then
    redis.call('ZADD', index, 'GT', expiry, room)
  end
end
local function unlisted()
  if not CLUSTER and redis.call('EXISTS', mkey) == 0 then
    redis.call('ZREM', index, room)
  end
end
-- Sets the presence hash's expiry to exactly now + keyTtl (PEXPIREAT: a relative PEXPIRE counts from the clock at the
-- call, which moves on during a script) and records it as WROTE.
local function wrote(u, keyTtl)
  redis.call('PEXPIREAT', pkey(u), now + keyTtl)
  redis.call('ZADD', ckey(u), 'GT', now + keyTtl, WROTE)
end
-- The presence hash's expiry, exactly where Redis has PEXPIRETIME (7.0), else read from PTTL (then never later than
-- the real one); nil without a hash or an expiry.
local function expiryOf(key)
  local at = redis.pcall('PEXPIRETIME', key)
  if type(at) == 'number' then
    return at > 0 and at or nil
  end
  local pttl = redis.call('PTTL', key)
  return pttl > 0 and now + pttl or nil
end
local function noteForeign(u)
  local theirs = expiryOf(pkey(u))
  if not theirs then
    return
  end
  local ours = tonumber(redis.call('ZSCORE', ckey(u), WROTE) or '-1')
  -- our own write reads back as exactly what we wrote (or less); anything later was written by someone else
  if theirs > ours then
    redis.call('ZADD', ckey(u), theirs, FOREIGN)
    if redis.call('PTTL', ckey(u)) < theirs - now then
      redis.call('PEXPIRE', ckey(u), theirs - now)
    end
  end
end
local function event(kind, u, reason, meta)
  if not HOOKS[kind] then
    return
  end
  local f = {'type', kind, 'room', room, 't', tostring(now)}
  if not CLUSTER then
    f[#f + 1] = 'n'
    f[#f + 1] = tostring(redis.call('INCR', 'flock:webhooks:seq'))
  end
  if u then
    f[#f + 1] = 'user'
    f[#f + 1] = u
  end
  if reason then
    f[#f + 1] = 'reason'
    f[#f + 1] = reason
  end
  if meta then
    f[#f + 1] = 'meta'
    f[#f + 1] = meta
  end
  if CLUSTER then
    -- the outbox is in another slot: the room's own stream, in this one, which the instance then relays to it
    redis.call('XADD', 'flock:{' .. room .. '}:webhooks', 'MAXLEN', HOOK_MAX, '*', unpack(f))
  else
    redis.call('XADD', 'flock:webhooks', 'MAXLEN', HOOK_MAX, '*', unpack(f))
  end
end
local function member(u, meta)
  if redis.call('SCARD', mkey) == 0 then
    event('room.occupied')
  end
  redis.call('SADD', mkey, u)
  event('user.joined', u, nil, meta)
end
local function drop(u, reason)
  local meta = redis.call('HGET', pkey(u), 'metadata')
  redis.call('SREM', mkey, u)
  redis.call('DEL', pkey(u), kkey(u), ckey(u))
  unlisted()
  event('user.left', u, reason, meta) -- no metadata when the presence hash expired first (a TTL leave)
  if redis.call('SCARD', mkey) == 0 then
    event('room.vacated')
  end
end
