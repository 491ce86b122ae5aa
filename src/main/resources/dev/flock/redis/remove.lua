-- Remove one connection of a user; when it was the user's last live one, remove the user.
-- KEYS[1] - the room's members key (the other key names from ARGV[1], see prelude.lua)
-- ARGV[1] - room id, as encoded for keys
-- ARGV[2] - user id
-- ARGV[3] - connection id
-- ARGV[4] - the leave's reason for the webhook event: left, closed, expired, kicked, closed_by_admin
-- Returns 1 when the user is not present any more: this was their last live connection (the user and every key
-- of theirs are deleted, events user.left and, for the room's last, room.vacated), or they were not a member at all (already swept or pruned: the caller, which still
-- shows them, must say they left); else 0 (the user still has a live connection, ours or an original instance's).

local user, conn, reason = ARGV[2], ARGV[3], ARGV[4]
-- first, while this connection still counts as our latest write: did an original refresh the user after it?
noteForeign(user)
redis.call('ZREM', ckey(user), conn)
if redis.call('SISMEMBER', mkey, user) == 0 then
  return 1
end
redis.call('ZREMRANGEBYSCORE', ckey(user), '-inf', now)
if entries(user) > 0 then
  return 0
end
drop(user, reason)
return 1
