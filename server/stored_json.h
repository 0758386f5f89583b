#pragma once
// JSON the studio reads back from its own storage (job rows, upload records, result sidecars) is
// checked like a request body before it is parsed: a file or row edited behind the server's back
// must not overflow a thread's stack when the value is later copied or dumped (io/bounded_json.h).
#include "io/bounded_json.h"

#include <nlohmann/json.hpp>
#include <string_view>

namespace impasto::studio {

// A stored request, progress or result object: a few kilobytes, nesting four levels.
inline constexpr JsonLimits kStoredRecordLimits{std::size_t{256} * 1024U, 16};
// A result's sidecar holds the loss history of every iteration: larger, but as shallow.
inline constexpr JsonLimits kSidecarLimits{std::size_t{16} * 1024U * 1024U, 16};

// The parsed value, or null when `text` is empty, over the limits or not JSON.
inline nlohmann::json parse_stored_json(std::string_view text, const JsonLimits& limits = kStoredRecordLimits) {
    if (text.empty() || text.size() > limits.max_bytes ||
        json_nesting_depth(text, limits.max_depth) > limits.max_depth) {
        return nullptr;
    }
    nlohmann::json value = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    return value.is_discarded() ? nlohmann::json(nullptr) : value;
}

} // namespace impasto::studio
