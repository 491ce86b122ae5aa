-- A connection ended without a clean goodbye: keep it, for the reconnect grace only, as a graced entry ('~g:' and its
-- id, scored by the grace's end), so the user stays present (and keeps the seat). A new connection of the user admitted
-- meanwhile takes the user over silently (admit.lua drops the graced entries); nobody back: the grace's end removes it
-- (remove.lua with the graced id), or, if this instance died meanwhile, it expires and a sweep prunes the user.
-- The presence hash and the connections set are kept at least as long as the grace (pushed out, never shortened), so
-- a grace longer than what is left of the TTL does not lose the user's metadata or the user.
-- KEYS[1] - the room's members key (the other key names from ARGV[1], see prelude.lua)
-- ARGV[1] - room id, as encoded for keys
-- ARGV[2] - user id
-- ARGV[3] - connection id
-- ARGV[4] - the grace in ms
-- Returns 1 when the connection was graced, 0 when it was not there (already removed or replaced).

local user, conn, grace = ARGV[2], ARGV[3], tonumber(ARGV[4])
if not redis.call('ZSCORE', ckey(user), conn) then
  return 0
end
noteForeign(user) -- before any write of ours hides an original's
redis.call('ZREM', ckey(user), conn)
redis.call('ZADD', ckey(user), now + grace, GRACED .. conn)
local expiry = expiryOf(pkey(user))
if expiry and expiry < now + grace then
  wrote(user, grace)
end
if redis.call('PTTL', ckey(user)) < grace then
  redis.call('PEXPIRE', ckey(user), grace)
end
return 1
