#pragma once
// What counts as "this machine" for the studio, decided by parsing, never by string prefix: the
// Host header, the Origin header and the --host address all go through these functions.
//
// The rule is deliberately narrow. A loopback name is exactly one of
//   - an IPv4 literal in 127.0.0.0/8 written as a strict dotted quad (four decimal parts 0..255,
//     no leading zeros, no octal, hex, short or integer forms such as 0x7f.0.0.1, 127.1, 2130706433),
//   - the IPv6 loopback ::1 (written [::1] in a Host or Origin, ::1 or [::1] for --host),
//   - the name localhost, compared without regard to ASCII case (DNS names are case-insensitive, and
//     only the machine's own resolver answers for it); no trailing dot.
// Anything else is not loopback, even when it would resolve there: 127.0.0.1.nip.io,
// localhost.evil.com, [::ffff:127.0.0.1], [0:0:0:0:0:0:0:1]. A false "no" only asks for a token.
#include <optional>
#include <string>
#include <string_view>

namespace impasto::studio {

// host[:port] as sent in a Host header or inside an Origin.
struct Authority {
    std::string host;        // lower-cased; an IPv6 literal keeps its brackets
    std::optional<int> port; // 1..65535 when present
};

// scheme://host[:port], nothing after it (the form browsers send in Origin).
struct Origin {
    std::string scheme; // "http" or "https"
    Authority authority;
};

// A bare address or name as given to --host (no port): 127.0.0.1, ::1, [::1], localhost.
bool is_loopback_host(std::string_view host);

// Parses host[:port]. Refuses empty text, whitespace and control characters, userinfo (@),
// percent-encoding, paths, an empty or out-of-range port, and host characters outside
// [A-Za-z0-9.-_] (or an IPv6 literal in brackets).
std::optional<Authority> parse_authority(std::string_view text);

// A Host header naming this machine by a loopback name.
bool is_loopback_authority(std::string_view host_header);

// Parses an Origin header; "null", other schemes, paths and trailing slashes are refused.
std::optional<Origin> parse_origin(std::string_view text);

// Whether a page at `origin` is this server as addressed by `host` (the Host header). A missing
// port means the scheme's default on both sides, so https://name matches a proxy's Host: name.
bool same_origin(const Origin& origin, const Authority& host);

} // namespace impasto::studio
