-- wrk script: cycle through a fixed list of tile paths (one per line in $PLACEMAP_URLS), which
-- bench/server_wrk.sh requested once before the run so every one is in the server's tile cache.
-- Each wrk thread starts at a different place in the list.
local paths = {}
local pos = 0
local counter = 1

function setup(thread)
  thread:set("tid", counter - 1)
  counter = counter + 1
end

function init(args)
  for line in io.lines(os.getenv("PLACEMAP_URLS")) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  -- `tid` is the global setup() gave this thread.
  pos = ((tonumber(tid) or 0) * 7919) % #paths
end

function request()
  pos = pos % #paths + 1
  return wrk.format("GET", paths[pos])
end
