#include "server/host_check.h"

#include <algorithm>
#include <cctype>

namespace impasto::studio {

namespace {

// A host name is at most 253 characters; an IPv6 literal in brackets far less.
constexpr std::size_t kMaxHostLength = 255;

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

char to_lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), to_lower);
    return out;
}

// 0..255 in plain decimal: "0" alone, otherwise no leading zero (010 is 8 to inet_aton).
std::optional<int> strict_octet(std::string_view part) {
    if (part.empty() || part.size() > 3 || !std::all_of(part.begin(), part.end(), is_digit) ||
        (part.size() > 1 && part.front() == '0')) {
        return std::nullopt;
    }
    int value = 0;
    for (const char c : part) {
        value = value * 10 + (c - '0');
    }
    return value <= 255 ? std::optional<int>(value) : std::nullopt;
}

bool is_loopback_ipv4(std::string_view text) {
    int parts = 0;
    int first = -1;
    while (true) {
        const std::size_t dot = text.find('.');
        const auto octet = strict_octet(text.substr(0, dot));
        if (!octet) {
            return false;
        }
        if (parts++ == 0) {
            first = *octet;
        }
        if (dot == std::string_view::npos) {
            break;
        }
        text.remove_prefix(dot + 1);
    }
    return parts == 4 && first == 127;
}

// 1..65535 in plain decimal.
std::optional<int> strict_port(std::string_view text) {
    if (text.empty() || text.size() > 5 || !std::all_of(text.begin(), text.end(), is_digit) || text.front() == '0') {
        return std::nullopt;
    }
    int value = 0;
    for (const char c : text) {
        value = value * 10 + (c - '0');
    }
    return value <= 65535 ? std::optional<int>(value) : std::nullopt;
}

bool is_name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_';
}

bool is_ipv6_char(char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
}

int default_port(const std::string& scheme) {
    return scheme == "https" ? 443 : 80;
}

} // namespace

bool is_loopback_host(std::string_view host) {
    if (host == "::1" || host == "[::1]") {
        return true;
    }
    if (lower(host) == "localhost") {
        return true;
    }
    return is_loopback_ipv4(host);
}

std::optional<Authority> parse_authority(std::string_view text) {
    if (text.empty() || text.size() > kMaxHostLength + 6) {
        return std::nullopt;
    }
    std::string_view host;
    std::string_view rest;
    if (text.front() == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos || close < 2) {
            return std::nullopt;
        }
        const std::string_view inside = text.substr(1, close - 1);
        if (!std::all_of(inside.begin(), inside.end(), is_ipv6_char)) {
            return std::nullopt;
        }
        host = text.substr(0, close + 1);
        rest = text.substr(close + 1);
    } else {
        const std::size_t colon = text.find(':');
        host = text.substr(0, colon);
        rest = colon == std::string_view::npos ? std::string_view() : text.substr(colon);
        if (host.empty() || host.size() > kMaxHostLength || !std::all_of(host.begin(), host.end(), is_name_char)) {
            return std::nullopt;
        }
    }
    Authority out;
    out.host = lower(host);
    if (!rest.empty()) {
        if (rest.front() != ':') {
            return std::nullopt;
        }
        out.port = strict_port(rest.substr(1));
        if (!out.port) {
            return std::nullopt;
        }
    }
    return out;
}

bool is_loopback_authority(std::string_view host_header) {
    const auto authority = parse_authority(host_header);
    return authority && is_loopback_host(authority->host);
}

std::optional<Origin> parse_origin(std::string_view text) {
    const std::size_t separator = text.find("://");
    if (separator == std::string_view::npos) {
        return std::nullopt;
    }
    Origin out;
    out.scheme = lower(text.substr(0, separator));
    if (out.scheme != "http" && out.scheme != "https") {
        return std::nullopt;
    }
    auto authority = parse_authority(text.substr(separator + 3));
    if (!authority) {
        return std::nullopt;
    }
    out.authority = std::move(*authority);
    return out;
}

bool same_origin(const Origin& origin, const Authority& host) {
    const int fallback = default_port(origin.scheme);
    return origin.authority.host == host.host &&
           origin.authority.port.value_or(fallback) == host.port.value_or(fallback);
}

} // namespace impasto::studio
