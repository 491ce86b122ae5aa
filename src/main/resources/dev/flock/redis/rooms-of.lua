-- Which of the given rooms a user is present in. Read-only; the caller passes the rooms in chunks, so no one call
-- holds Redis long.
-- KEYS: none (key names computed here for each room, as prelude.lua does for ARGV[1]).
-- ARGV[1] - '' (no room of its own)
-- ARGV[2] - user id
-- ARGV[3..] - room ids, as encoded for keys
-- Returns the room ids (as encoded for keys) whose members set holds the user with a live connection entry (not a
-- marker) or a presence hash.

local user = ARGV[2]
local u = enc(user)
local out = {}
for i = 3, #ARGV do
  local r = ARGV[i]
  if redis.call('SISMEMBER', 'flock:room:' .. r .. ':members', user) == 1 then
    local present = redis.call('EXISTS', 'flock:presence:' .. r .. ':' .. u) == 1
    if not present then
      for _, e in ipairs(redis.call('ZRANGEBYSCORE', 'flock:conns:' .. r .. ':' .. u, '(' .. now, '+inf')) do
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
