-- Evict mode: another instance announced a user this instance holds. Tells whether the store still holds any of the
-- given connections of ours (none: another instance of ours replaced them, as admit.lua's 'replaced' deletes them)
-- and, as the caller found out just before (flock:instance:<id> is in another hash slot of a cluster), whether the
-- publisher is one of ours (it keeps flock:instance:<id> alive) or an original Node instance.
-- KEYS[1] - the room's members key (see prelude.lua)
-- ARGV[1] - room id, as encoded for keys
-- ARGV[2] - user id
-- ARGV[3] - '1' when the publisher is one of ours, else '0'
-- ARGV[4] - '1': the announcement was a join; when the publisher is not ours (an original instance, which now holds
--           the user), our held connections are removed, and the user is kept whatever is left
-- ARGV[5..] - connection ids of ours
-- Returns the number of those connections still held (before any removal).

local user, ours, joined = ARGV[2], ARGV[3] == '1', ARGV[4] == '1'
local held = 0
for i = 5, #ARGV do
  local score = redis.call('ZSCORE', ckey(user), ARGV[i])
  if score and tonumber(score) > now then
    held = held + 1
  end
end
if joined and held > 0 and not ours then
  for i = 5, #ARGV do
    redis.call('ZREM', ckey(user), ARGV[i])
  end
end
return held
