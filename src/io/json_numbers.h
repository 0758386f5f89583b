#pragma once
// Whole numbers from JSON that someone else wrote (model files, cards, cached records, stored
// uploads). nlohmann's get<int>() casts a double to the integer type, which is undefined behaviour
// when it does not fit (1e300, 1.8e19), and wraps an integer that does not fit: every integer field
// of such JSON is read through here instead, and anything else is the caller's typed error.
#include <cstdint>
#include <optional>
#include <string>

#include <fmt/format.h>

namespace impasto::io {

// `value` as a whole number in [low, high]; nullopt for a fraction, a non-number or out of range.
// Only JSON integers count: every integer impasto writes is written as one.
template <class Json>
std::optional<std::int64_t> whole_number(const Json& value, std::int64_t low, std::int64_t high) {
    if (value.is_number_unsigned()) {
        const std::uint64_t number = value.template get<std::uint64_t>();
        if (high < 0 || number > static_cast<std::uint64_t>(high) ||
            (low > 0 && number < static_cast<std::uint64_t>(low))) {
            return std::nullopt;
        }
        return static_cast<std::int64_t>(number);
    }
    if (value.is_number_integer()) {
        const std::int64_t number = value.template get<std::int64_t>();
        if (number < low || number > high) {
            return std::nullopt;
        }
        return number;
    }
    return std::nullopt;
}

// object[key] as a whole number in [low, high], `fallback` when the key is absent; otherwise Error
// naming `context`, the key, the value as written and the range.
template <class Error, class Json>
std::int64_t whole_field(const Json& object, const char* key, std::int64_t fallback, std::int64_t low,
                         std::int64_t high, const std::string& context) {
    if (!object.is_object() || !object.contains(key)) {
        return fallback;
    }
    const Json& value = object.at(key);
    if (const auto number = whole_number(value, low, high)) {
        return *number;
    }
    const std::string written = value.dump();
    throw Error(fmt::format("{}: {} = {} is out of range; allowed: a whole number {}..{}", context, key,
                            written.size() > 40 ? written.substr(0, 40) + "..." : written, low, high));
}

} // namespace impasto::io
