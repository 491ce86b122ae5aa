-- Remove the members of a room (or the one given) that are no longer alive.
-- KEYS[1] - the room's members key (the other key names from ARGV[1], see prelude.lua)
-- ARGV[1] - room id, as encoded for keys
-- ARGV[2] - optional user id: check only that user
-- Takes the room out of the room index when its members set is gone (also when another writer emptied it).
-- Returns the list of removed user ids (each with its event user.left 'expired'; room.vacated for the last).

local removed = {}
local list
if ARGV[2] then list = {ARGV[2]} else list = redis.call('SMEMBERS', mkey) end
for _, u in ipairs(list) do
  if redis.call('SISMEMBER', mkey, u) == 1 and not alive(u) then
    drop(u, 'expired')
    table.insert(removed, u)
  end
end
unlisted()
return removed
