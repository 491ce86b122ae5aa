-- Extend the connections that showed activity and write the moved users' cursors, in one call per room.
-- KEYS: none (key names from ARGV[1], see prelude.lua).
-- ARGV[1] - room id, as encoded for keys
-- ARGV[2] - TTL in ms
-- ARGV[3] - rewrite: '1' re-creates missing members, presence hashes and connections (after Redis lost them);
--           '0' extends only connections that still exist (ZADD XX: one dropped elsewhere stays dropped)
-- ARGV[4] - n, the number of touches that follow
-- ARGV[5..4+3n] - n x (user id, connection id, metadata JSON; '' when not rewriting)
-- ARGV[5+3n..] - cursor writes, 4 each: (user id, x, y, timestamp); x = '' deletes the user's cursor hash, else
--                it is written for a member only
-- Returns the user ids whose presence hash had to be re-created (only with rewrite).

local ttl, rewrite, n = tonumber(ARGV[2]), ARGV[3] == '1', tonumber(ARGV[4])
local recreated = {}
local i = 5
for k = 1, n do
  local u, c, meta = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  i = i + 3
  if rewrite then
    redis.call('SADD', mkey, u)
    if redis.call('EXISTS', pkey(u)) == 0 then
      redis.call('HSET', pkey(u), 'metadata', meta, 'joinedAt', tostring(now))
      table.insert(recreated, u)
    end
    redis.call('ZADD', ckey(u), now + ttl, c)
  else
    redis.call('ZADD', ckey(u), 'XX', now + ttl, c)
  end
  redis.call('PEXPIRE', ckey(u), ttl)
  redis.call('PEXPIRE', pkey(u), ttl)
  redis.call('PEXPIRE', kkey(u), ttl)
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
    redis.call('PEXPIRE', kkey(u), ttl)
  end
end
return recreated
