-- Remove one connection of a user; when it was the user's last live one, remove the user.
-- KEYS: none (key names from ARGV[1], see prelude.lua).
-- ARGV[1] - room id, as encoded for keys
-- ARGV[2] - user id
-- ARGV[3] - connection id
-- Returns 1 when the user left (not in the members set any more, every key of the user deleted), else 0
-- (the user still has a live connection, or was not a member).

local user, conn = ARGV[2], ARGV[3]
redis.call('ZREM', ckey(user), conn)
if redis.call('SISMEMBER', mkey, user) == 0 then
  return 0
end
redis.call('ZREMRANGEBYSCORE', ckey(user), '-inf', now)
if redis.call('ZCARD', ckey(user)) > 0 then
  return 0
end
drop(user)
return 1
