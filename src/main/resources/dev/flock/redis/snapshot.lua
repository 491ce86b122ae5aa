-- List the live members of a room with their metadata, cursor and connections. Read-only.
-- KEYS[1] - the room's members key (the other key names from ARGV[1], see prelude.lua)
-- ARGV[1] - room id, as encoded for keys
-- Returns {{user id, metadata JSON ('{}' when no presence hash), x, y, timestamp, connections, reconnecting}, ...},
-- with '' for each cursor field the user has not written; connections counts the live connection entries but the
-- markers and the graced ones (1 for a user only an original Node instance holds, which writes none); reconnecting is
-- 1 when the user is present by graced entries alone, else 0.

local out = {}
for _, u in ipairs(redis.call('SMEMBERS', mkey)) do
  if redis.call('EXISTS', pkey(u)) == 1 or entries(u) > 0 then
    local meta = redis.call('HGET', pkey(u), 'metadata') or '{}'
    local c = redis.call('HMGET', kkey(u), 'x', 'y', 'timestamp')
    local conns, graced, foreign = 0, 0, false
    for _, e in ipairs(redis.call('ZRANGEBYSCORE', ckey(u), '(' .. now, '+inf')) do
      if string.sub(e, 1, 3) == GRACED then
        graced = graced + 1
      elseif e == FOREIGN then
        foreign = true
      elseif e ~= WROTE then
        conns = conns + 1
      end
    end
    local reconnecting = 0
    if conns == 0 then
      if graced > 0 and not foreign then
        reconnecting = 1
      else
        conns = 1
      end
    end
    table.insert(out, {u, meta, c[1] or '', c[2] or '', c[3] or '', conns, reconnecting})
  end
end
return out
