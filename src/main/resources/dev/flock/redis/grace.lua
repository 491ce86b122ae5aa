-- A connection ended without a clean goodbye: keep it, for the reconnect grace only, as a graced entry ('~g:' and its
-- id, scored by the grace's end), so the user stays present (and keeps the seat). A new connection of the user admitted
-- meanwhile takes the user over silently (admit.lua drops the graced entries); nobody back: the grace's end removes it
-- (remove.lua with the graced id), or, if this instance died meanwhile, it expires and a sweep prunes the user.
-- KEYS: none (key names from ARGV[1], see prelude.lua).
-- ARGV[1] - room id, as encoded for keys
-- ARGV[2] - user id
-- ARGV[3] - connection id
-- ARGV[4] - the grace in ms
-- Returns 1 when the connection was graced, 0 when it was not there (already removed or replaced).

local user, conn, grace = ARGV[2], ARGV[3], tonumber(ARGV[4])
if not redis.call('ZSCORE', ckey(user), conn) then
  return 0
end
redis.call('ZREM', ckey(user), conn)
redis.call('ZADD', ckey(user), now + grace, GRACED .. conn)
return 1
