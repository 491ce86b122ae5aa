-- Claim rooms of the room index (see prelude.lua) in which every connection of ours has expired: rooms that may be
-- left over by a crashed instance, with nobody left to sweep them. Each claimed room's score is pushed out by the
-- lease, so instances running this at the same time claim different rooms, and a claimed room comes up again only
-- after the lease (when its claimer died before sweeping it, or when it keeps members alive by a presence hash
-- alone: an original Node instance's users, whose expiry the index does not know).
-- KEYS[1] - the room index flock:rooms (the original layout only: a cluster has no index)
-- ARGV[1] - '' (no room: this script reads the index, not one room)
-- ARGV[2] - lease in ms
-- ARGV[3] - the most rooms to claim
-- Returns the claimed room ids, as encoded for keys; the caller sweeps each (sweep.lua), which unlists it once
-- its members set is gone.

local lease, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
-- strictly before now: a key with an expiry equal to now has not expired yet
local due = redis.call('ZRANGEBYSCORE', index, '-inf', '(' .. now, 'LIMIT', 0, limit)
for _, r in ipairs(due) do
  redis.call('ZADD', index, now + lease, r)
end
return due
