-- Shared by the edge's generated Lua filters (pkg/edge/_guard.py, pkg/edge/_strict_json.py).
-- A check raises reject(...); refuse() records why in dynamic metadata (namespace METADATA:
-- "reason", and "field" when one field or parameter is at fault) and answers with a local
-- reply, which the listener's local_reply_config renders as a google.rpc.Status.
local METADATA = @METADATA@

local byte, find, gsub, sub, char = string.byte, string.find, string.gsub, string.sub, string.char
local concat, floor = table.concat, math.floor

local Reject = {}  -- metatable that marks a rejection raised with error()

local function reject(reason, message, field, status)
  error(setmetatable({reason = reason, message = message, field = field, status = status},
                     Reject), 0)
end

local function printable(key)
  return (sub(key, 1, 64):gsub("[^%w%._%-%[%]]", "?"))
end

-- Answer the request for a rejection raised by reject(); anything else is a bug in the
-- filter, which fails closed with the details in Envoy's log.
local function refuse(handle, err, filter)
  if getmetatable(err) ~= Reject then
    handle:logErr(filter .. ": " .. tostring(err))
    err = {reason = filter .. "_unchecked", message = "request could not be checked"}
  end
  local metadata = handle:streamInfo():dynamicMetadata()
  metadata:set(METADATA, "reason", err.reason)
  if err.field then metadata:set(METADATA, "field", err.field) end
  handle:respond({[":status"] = err.status or "400", ["content-type"] = "text/plain"},
                 err.message)
end
