#pragma once
// JSON from outside (HTTP bodies, study specs, model-file configs, sidecars) is parsed only after
// its size and nesting depth are checked by a linear, non-recursive scan. Copying, dumping and
// comparing a nlohmann value recurse once per nesting level, so a few hundred kilobytes of `[`
// would otherwise overflow a thread's stack long after the parse itself succeeded.
#include "impasto/error.h"

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace impasto {

struct JsonLimits {
    std::size_t max_bytes = 1U << 20U; // 1 MiB: far above any spec, request or config we write
    int max_depth = 32;                // our deepest document nests 5 levels
};

// The deepest nesting of objects and arrays in `text`, counted without parsing; brackets inside
// strings do not count. Stops early (returning a value > limit) once `limit` is exceeded.
inline int json_nesting_depth(std::string_view text, int limit) {
    int depth = 0;
    int deepest = 0;
    bool in_string = false;
    bool escaped = false;
    for (const char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > deepest) {
                deepest = depth;
                if (deepest > limit) {
                    return deepest;
                }
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

// Throws E naming `what` when `text` is over the limits; otherwise does nothing.
template <class E = InputError>
void check_json_limits(std::string_view text, const JsonLimits& limits, const std::string& what) {
    if (text.size() > limits.max_bytes) {
        throw E(what + ": JSON of " + std::to_string(text.size()) + " bytes is over the limit of " +
                std::to_string(limits.max_bytes));
    }
    if (json_nesting_depth(text, limits.max_depth) > limits.max_depth) {
        throw E(what + ": JSON nests deeper than " + std::to_string(limits.max_depth) + " levels");
    }
}

// Parses `text` after check_json_limits; a syntax error becomes E naming `what`.
template <class Json = nlohmann::json, class E = InputError>
Json parse_bounded_json(std::string_view text, const JsonLimits& limits, const std::string& what) {
    check_json_limits<E>(text, limits, what);
    try {
        return Json::parse(text.begin(), text.end());
    } catch (const nlohmann::json::exception& e) {
        throw E(what + ": not valid JSON (" + e.what() + ")");
    }
}

} // namespace impasto
