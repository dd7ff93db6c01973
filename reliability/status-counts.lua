-- wrk script: counts the answers by status code over all threads and prints them at the end
-- ("status 200 1234" lines), for reliability/load.sh.
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    statuses = {}
end

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
    local total = {}
    for _, thread in ipairs(threads) do
        for code, n in pairs(thread:get("statuses")) do
            total[code] = (total[code] or 0) + n
        end
    end
    for code, n in pairs(total) do
        io.write(string.format("status %d %d\n", code, n))
    end
    io.write(string.format("latency_us p50 %d p99 %d max %d\n",
        latency:percentile(50), latency:percentile(99), latency.max))
end
