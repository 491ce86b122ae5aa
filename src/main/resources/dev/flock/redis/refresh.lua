-- Extend the connections that showed activity and write the moved users' cursors, in one call per room.
-- KEYS[1] - the room's members key (the other key names from ARGV[1], see prelude.lua)
-- ARGV[1] - room id, as encoded for keys
-- ARGV[2] - TTL in ms of connection entries (ours: the presence TTL plus a grace, so our own expiry decides first)
-- ARGV[3] - TTL in ms of the presence and cursor hashes: exactly the configured presence TTL, as the original's
-- ARGV[4] - rewrite: '1' re-creates missing members, presence hashes and connections (after Redis lost them);
--           '0' extends only connections that still exist (ZADD XX: one dropped elsewhere stays dropped)
-- ARGV[5] - n, the number of touches that follow
-- ARGV[6..5+3n] - n x (user id, connection id, metadata JSON; '' when not rewriting)
-- ARGV[6+3n..] - cursor writes, 4 each: (user id, x, y, timestamp); x = '' deletes the user's cursor hash, else
--                it is written for a member only
-- Returns the user ids whose presence hash had to be re-created (only with rewrite).

local ttl, keyTtl, rewrite, n = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4] == '1', tonumber(ARGV[5])
local recreated = {}
local function extend(u)
  redis.call('PEXPIRE', ckey(u), ttl)
  redis.call('PEXPIREAT', kkey(u), now + keyTtl)
  wrote(u, keyTtl)
end
local i = 6
for k = 1, n do
  local u, c, meta = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  i = i + 3
  if rewrite then
    if redis.call('SISMEMBER', mkey, u) == 0 then
      member(u, meta) -- dropped (and announced gone) meanwhile: present again
    end
    noteForeign(u) -- a hash that is there may have been pushed out by an original since our last write
    if redis.call('EXISTS', pkey(u)) == 0 then
      redis.call('HSET', pkey(u), 'metadata', meta, 'joinedAt', tostring(now))
      -- whoever held the user beside us deleted the hash on leaving (as the original does): they are gone
      redis.call('ZREM', ckey(u), FOREIGN)
      table.insert(recreated, u)
    end
    redis.call('ZADD', ckey(u), now + ttl, c)
    extend(u)
  else
    noteForeign(u) -- before our write hides theirs
    -- a connection dropped elsewhere (replaced in evict mode) extends nothing: its write would pass for a foreign one
    if redis.call('ZADD', ckey(u), 'XX', 'CH', now + ttl, c) == 1 then
      extend(u)
    end
  end
end
if n > 0 then
  listed(now + ttl)
end
while i <= #ARGV do
  local u, x, y, ts = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  i = i + 4
  if x == '' then
    redis.call('DEL', kkey(u))
  elseif redis.call('SISMEMBER', mkey, u) == 1 then
    redis.call('HSET', kkey(u), 'x', x, 'y', y, 'timestamp', ts)
    redis.call('PEXPIRE', kkey(u), keyTtl)
  end
end
return recreated
