// HTML escaping, base64 and number formats used across the report.
#include "report/report_text.h"

#include <cmath>
#include <fmt/format.h>

namespace impasto::report {

std::string html_escape(const std::string& text) {
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    for (const char c : text) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&#39;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

std::string base64_encode(const std::uint8_t* data, std::size_t size) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((size + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < size; i += 3) {
        const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) | data[i + 2];
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (i < size) {
        std::uint32_t v = std::uint32_t{data[i]} << 16;
        if (i + 1 < size) {
            v |= std::uint32_t{data[i + 1]} << 8;
        }
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += i + 1 < size ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::string format_metric(double value) {
    if (!std::isfinite(value)) {
        return "–";
    }
    return fmt::format("{:.3g}", value);
}

std::string format_seconds(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) {
        return "–";
    }
    if (seconds < 10) {
        return fmt::format("{:.2f}", seconds);
    }
    if (seconds < 1000) {
        return fmt::format("{:.1f}", seconds);
    }
    return fmt::format("{:.0f}", seconds);
}

std::string format_mib(std::int64_t bytes) {
    if (bytes <= 0) {
        return "–";
    }
    return fmt::format("{:.1f}", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

} // namespace impasto::report
