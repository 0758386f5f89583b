#include "server/studio_access.h"

#include "io/sha256.h"
#include "server/host_check.h"

#include <algorithm>

namespace impasto::studio {

namespace {

bool is_read(const httplib::Request& req) {
    return req.method == "GET" || req.method == "HEAD";
}

bool is_page(const httplib::Request& req) {
    return is_read(req) && (req.path == "/" || req.path == "/index.html");
}

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
    return text;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

// Sec-Fetch-Site is sent by current browsers on every request; "same-origin" is the studio's own
// page and "none" is the user (address bar, bookmark). Without it the client is no browser, or an
// old one, and the Origin check is what is left.
bool from_elsewhere(const httplib::Request& req) {
    if (!req.has_header("Sec-Fetch-Site")) {
        return false;
    }
    const std::string site = lower(req.get_header_value("Sec-Fetch-Site"));
    return site != "same-origin" && site != "none";
}

AccessDecision refuse(int status, const char* code, const char* message) {
    AccessDecision decision;
    decision.kind = AccessDecision::Kind::Refuse;
    decision.status = status;
    decision.code = code;
    decision.message = message;
    return decision;
}

} // namespace

bool same_secret(const std::string& a, const std::string& b) {
    unsigned char difference = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
        const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
        const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
        difference |= static_cast<unsigned char>(x ^ y);
    }
    return difference == 0;
}

StudioAccess::StudioAccess(std::string token, int port)
    : token_(std::move(token)), cookie_name_("impasto_studio_" + std::to_string(port)) {
    if (has_token()) {
        cookie_value_ = io::sha256_hex("impasto studio cookie\n" + token_);
    }
}

bool StudioAccess::bearer_matches(const httplib::Request& req) const {
    if (req.get_header_value_count("Authorization") != 1) {
        return false;
    }
    const std::string header = req.get_header_value("Authorization");
    const std::string scheme = "bearer ";
    return header.size() > scheme.size() && lower(header.substr(0, scheme.size())) == scheme &&
           same_secret(header.substr(scheme.size()), token_);
}

bool StudioAccess::cookie_matches(const httplib::Request& req) const {
    bool found = false;
    for (std::size_t i = 0; i < req.get_header_value_count("Cookie"); ++i) {
        const std::string header = req.get_header_value("Cookie", i);
        std::string_view rest = header;
        while (!rest.empty()) {
            const std::size_t end = rest.find(';');
            const std::string_view pair = trim(rest.substr(0, end));
            rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
            const std::size_t equals = pair.find('=');
            if (equals != std::string_view::npos && pair.substr(0, equals) == cookie_name_) {
                found = same_secret(std::string(pair.substr(equals + 1)), cookie_value_) || found;
            }
        }
    }
    return found;
}

AccessDecision StudioAccess::check(const httplib::Request& req) const {
    if (req.get_header_value_count("Host") != 1 || req.get_header_value_count("Origin") > 1) {
        return refuse(400, "bad_request", "a request needs exactly one Host header and at most one Origin");
    }
    const auto host = parse_authority(req.get_header_value("Host"));
    if (!host) {
        return refuse(400, "bad_request", "the Host header is not a host name or address with an optional port");
    }
    // Without a token the only protection is the loopback bind; a page elsewhere could still
    // reach it through DNS rebinding, which shows up as a foreign Host header.
    if (!has_token() && !is_loopback_host(host->host)) {
        return refuse(403, "forbidden", "requests must address the server by a loopback name");
    }
    if (req.has_header("Origin")) {
        const auto origin = parse_origin(req.get_header_value("Origin"));
        if (!origin || !same_origin(*origin, *host)) {
            return refuse(403, "forbidden", "cross-origin requests are not allowed");
        }
    }
    if (req.method == "OPTIONS") {
        return refuse(403, "forbidden", "cross-origin requests are not allowed");
    }
    const bool bearer = has_token() && bearer_matches(req);
    if (from_elsewhere(req) && !is_page(req) && !bearer) {
        return refuse(403, "forbidden", "requests from another site are not allowed");
    }
    if (!has_token() || bearer) {
        return {};
    }
    if (is_page(req) && req.has_param("token")) {
        if (req.get_param_value_count("token") != 1 || !same_secret(req.get_param_value("token"), token_)) {
            return refuse(401, "unauthorized", "the token in the address is wrong");
        }
        AccessDecision decision;
        decision.kind = AccessDecision::Kind::SetCookieAndRedirect;
        decision.status = 303;
        decision.location = req.path;
        decision.set_cookie = cookie_name_ + "=" + cookie_value_ + "; Path=/; HttpOnly; SameSite=Strict";
        if (lower(req.get_header_value("X-Forwarded-Proto")) == "https") {
            decision.set_cookie += "; Secure";
        }
        return decision;
    }
    if (cookie_matches(req)) {
        return {};
    }
    return refuse(401, "unauthorized",
                  "this server needs its token: open the page once with ?token=… in its address, or send "
                  "Authorization: Bearer …");
}

} // namespace impasto::studio
