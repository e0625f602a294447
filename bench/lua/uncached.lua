-- wrk script: every request is a tile the server has never rendered. Tiles are England's
-- bounding box (-6.45, 49.85, 1.8, 55.85, as mapnik_tiles.py) from $PLACEMAP_ZMIN to
-- $PLACEMAP_ZMAX, times a list of style variants ($PLACEMAP_STYLES, ';'-separated query strings),
-- so (style, tile) pairs never repeat: request i of a thread is pair (i * threads + thread id),
-- mapped through a stride co-prime with the tile count so zooms and places are interleaved.
-- $PLACEMAP_PREFIX is e.g. /tiles/lsoa11/imd_decile, $PLACEMAP_SUFFIX .png or @2x.png.
local tiles = {}
local styles = {}
local i, me, nthreads = 0, 0, 1
local counter = 1

function setup(thread)
  thread:set("tid", counter - 1)
  counter = counter + 1
end

local function tile_range(z)
  local n = 2 ^ z
  local function xy(lon, lat)
    local x = math.floor((lon + 180.0) / 360.0 * n)
    local r = math.rad(lat)
    local y = math.floor((1.0 - math.log(math.tan(r) + 1.0 / math.cos(r)) / math.pi) / 2.0 * n)
    return x, y
  end
  local x0, y1 = xy(-6.45, 49.85)
  local x1, y0 = xy(1.8, 55.85)
  for x = x0, x1 do
    for y = y0, y1 do
      tiles[#tiles + 1] = z .. "/" .. x .. "/" .. y
    end
  end
end

local function gcd(a, b)
  while b ~= 0 do a, b = b, a % b end
  return a
end

local stride = 7919
local prefix, suffix

function init(args)
  -- `tid` is the global setup() gave this thread.
  me = tonumber(tid) or 0
  nthreads = tonumber(os.getenv("PLACEMAP_THREADS")) or 1
  prefix = os.getenv("PLACEMAP_PREFIX")
  suffix = os.getenv("PLACEMAP_SUFFIX") or ".png"
  for z = tonumber(os.getenv("PLACEMAP_ZMIN")), tonumber(os.getenv("PLACEMAP_ZMAX")) do
    tile_range(z)
  end
  for s in string.gmatch(os.getenv("PLACEMAP_STYLES") or "", "[^;]+") do
    styles[#styles + 1] = s
  end
  if #styles == 0 then styles[1] = "" end
  while gcd(stride, #tiles) ~= 1 do stride = stride + 2 end
  i = me
end

function request()
  local n = #tiles
  local pair = i % (n * #styles)
  i = i + nthreads
  local t = tiles[(pair * stride) % n + 1]
  local s = styles[math.floor(pair / n) + 1]
  local q = ""
  if #s > 0 then q = "?" .. s end
  return wrk.format("GET", prefix .. "/" .. t .. suffix .. q)
end
