-- Admit one connection of a user to a room: a new user joins, a present user is shared (or replaced), and a
-- new user beyond the room limit is refused. Members found dead on the way are pruned.
-- KEYS[1] - the room's members key (the other key names from ARGV[1], see prelude.lua)
-- ARGV[1] - room id, as encoded for keys
-- ARGV[2] - user id
-- ARGV[3] - connection id
-- ARGV[4] - metadata JSON (written for a new user; kept from the stored hash when shared)
-- ARGV[5] - TTL in ms of the connection entry (ours: the presence TTL plus a grace, so our own expiry decides first)
-- ARGV[6] - room limit, counted in live users (0 = none)
-- ARGV[7] - mode: 'share' (a second connection joins the user's presence) or 'evict' (it replaces it)
-- ARGV[8] - TTL in ms of the user's presence hash: exactly the configured presence TTL, as the original writes it
-- Returns {status, stored metadata or false, {pruned user ids}}, status one of:
--   'joined'   - new user: added to the members set, presence hash written, connection added (events: room.occupied for
--                the room's first user, user.joined; a pruned user: user.left 'expired', room.vacated for the last)
--   'present'  - user already alive, share mode: connection added, stored metadata returned; also, in either mode,
--                a user held only by graced entries (a reconnect within the grace): those go, the connection takes over
--   'replaced' - user already alive, evict mode: old connections and cursor deleted, presence rewritten
--   'full'     - new user and the limit is reached: nothing written (except the pruning)

local user, conn, meta = ARGV[2], ARGV[3], ARGV[4]
local ttl, limit, mode, keyTtl = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7], tonumber(ARGV[8])
local pruned = {}
local function addConn()
  redis.call('ZADD', ckey(user), now + ttl, conn)
  redis.call('PEXPIRE', ckey(user), ttl)
  wrote(user, keyTtl)
  listed(now + ttl)
end
local function fresh()
  redis.call('DEL', ckey(user), kkey(user))
  redis.call('HSET', pkey(user), 'metadata', meta, 'joinedAt', tostring(now))
  addConn()
end
if redis.call('SISMEMBER', mkey, user) == 1 then
  if alive(user) then
    noteForeign(user) -- an original's write since ours is not a grace's: then the share/evict rules apply
    local returning = onlyGraced(user)
    if returning then
      -- the user returns within the reconnect grace: a take-over that nobody sees, in either mode
      ungrace(user)
    end
    if returning or mode == 'share' then
      local stored = redis.call('HGET', pkey(user), 'metadata')
      if not stored then
        redis.call('HSET', pkey(user), 'metadata', meta, 'joinedAt', tostring(now))
        stored = meta
      end
      addConn()
      return {'present', stored, pruned}
    end
    fresh()
    return {'replaced', false, pruned}
  end
  drop(user, 'expired')
  table.insert(pruned, user)
end
if limit > 0 then
  local count = 0
  for _, u in ipairs(redis.call('SMEMBERS', mkey)) do
    if alive(u) then
      count = count + 1
    else
      drop(u, 'expired')
      table.insert(pruned, u)
    end
  end
  if count >= limit then
    return {'full', false, pruned}
  end
end
member(user, meta)
fresh()
return {'joined', false, pruned}
