-- Compare-and-set of a user's stored metadata.
-- KEYS[1] - the room's members key (the other key names from ARGV[1], see prelude.lua)
-- ARGV[1] - room id, as encoded for keys
-- ARGV[2] - user id
-- ARGV[3] - expected metadata JSON (what the caller believes stored)
-- ARGV[4] - new metadata JSON
-- Returns {1} when written (event presence.updated); {0, current metadata JSON} when another instance changed it first (nothing
-- written: the caller merges into current and retries); {2} when the user has no presence hash.

local user, expected, new = ARGV[2], ARGV[3], ARGV[4]
local cur = redis.call('HGET', pkey(user), 'metadata')
if not cur then
  return {2}
end
if cur ~= expected then
  return {0, cur}
end
redis.call('HSET', pkey(user), 'metadata', new)
event('presence.updated', user, nil, new)
return {1}
