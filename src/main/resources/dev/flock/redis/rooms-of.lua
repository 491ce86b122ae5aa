-- Which of the given rooms a user is present in. Read-only; the caller passes the rooms in chunks, so no one call
-- holds Redis long.
-- KEYS: the rooms' members keys (in a cluster, the caller sends one room per call: they are in different slots).
-- ARGV[1] - '' (no room of its own)
-- ARGV[2] - user id
-- ARGV[3..] - room ids, as encoded for keys
-- Returns the room ids (as encoded for keys) whose members set holds the user with a live connection entry (not a
-- marker) or a presence hash.

local user = ARGV[2]
local out = {}
for i = 3, #ARGV do
  local r = ARGV[i]
  if redis.call('SISMEMBER', membersOf(r), user) == 1 then
    local present = redis.call('EXISTS', keyOf(r, 'presence', user)) == 1
    if not present then
      for _, e in ipairs(redis.call('ZRANGEBYSCORE', keyOf(r, 'conns', user), '(' .. now, '+inf')) do
        if e ~= WROTE then
          present = true
          break
        end
      end
    end
    if present then
      table.insert(out, r)
    end
  end
end
return out
