-- A room's first join on this instance (issue 22): the room's snapshot as it is just before the admission, then the
-- admission, in one atomic script, so that opening a room costs one round trip instead of two. Scripts.java puts
-- snapshot.lua's body in a function view() and admit.lua's in a function decide() before this body.
-- KEYS[1] - as admit.lua
-- ARGV[1] .. ARGV[8] - as admit.lua
-- Returns admit.lua's reply with snapshot.lua's reply (taken before the admission) as a fourth element.

local before = view()
local reply = decide()
reply[4] = before
return reply
