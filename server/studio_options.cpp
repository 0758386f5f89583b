#include "server/studio_options.h"

#include "impasto/error.h"
#include "server/host_check.h"

#include <fmt/format.h>

namespace impasto::studio {

void StudioOptions::validate() const {
    auto require_range = [](const char* field, std::int64_t value, std::int64_t low, std::int64_t high) {
        if (value < low || value > high) {
            throw ConfigError(fmt::format("{} = {} is out of range; allowed: {}..{}", field, value, low, high));
        }
    };
    if (host.empty()) {
        throw ConfigError("host is empty; give an address to bind, e.g. 127.0.0.1");
    }
    require_range("port", port, 0, 65535);
    require_range("workers", workers, 1, 64);
    require_range("max_event_streams", max_event_streams, 1, 1024);
    require_range("max_upload_bytes", max_upload_bytes, 1024, 4LL * 1024 * 1024 * 1024);
    require_range("max_pixels", max_pixels, 256, 1'000'000'000);
    require_range("max_output_side", max_output_side, 16, 16384);
    require_range("preview_every", preview_every, 0, 100000);
    require_range("preview_side", preview_side, 16, 4096);
    require_range("threads", threads, 1, 1024);
    require_range("request_timeout_seconds", request_timeout_seconds, 1, 3600);
    require_range("max_queued_jobs", max_queued_jobs, 1, 1'000'000);
    require_range("max_queued_per_client", max_queued_per_client, 1, 1'000'000);
    require_range("max_stored_bytes", max_stored_bytes, 1024LL * 1024, 1LL << 50);
    require_range("max_uploads", max_uploads, 1, 1'000'000);
    require_range("keep_days", keep_days, 0, 36500);
    if (keep_bytes != 0) {
        require_range("keep_bytes", keep_bytes, 1024LL * 1024, max_stored_bytes);
    }
    require_range("max_attempts", max_attempts, 1, 100);
    if (data_dir.empty()) {
        throw ConfigError("data folder is not set; give one for the queue, uploads and results");
    }
    if (!is_loopback_host(host) && token.empty()) {
        throw ConfigError(fmt::format("host = {} is not a loopback address (127.x.y.z in plain decimal, ::1 or "
                                      "localhost): a --token is required, and every request must then carry it",
                                      host));
    }
    if (!token.empty() && token.size() < 8) {
        throw ConfigError(fmt::format("token is {} characters long; allowed: at least 8", token.size()));
    }
}

} // namespace impasto::studio
