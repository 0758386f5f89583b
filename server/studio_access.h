#pragma once
// Who may use the studio, decided once per request before any route runs.
//
// - The Host header must parse; without a token it must name this machine by a loopback name
//   (host_check.h), which is what stops DNS rebinding.
// - An Origin header, on any method, must be this server's own origin. CORS stays closed.
// - A browser request from another site (Sec-Fetch-Site other than same-origin or none) is
//   refused unless it carries the token in an Authorization header: thumbnails, previews and
//   results cost work to make, and the cookie is no proof of intent there. Only the page itself
//   may be opened by a link from elsewhere.
// - With a token, a request carries it as "Authorization: Bearer T" or in the studio's cookie.
//   "?token=T" is taken only on the page (GET / or /index.html): the reply sets the cookie
//   (HttpOnly, SameSite=Strict) and redirects to the address without the token, so it stays out of
//   history, logs and every other URL. Elsewhere ?token= is not a credential and is ignored.
#include <httplib.h>
#include <string>

namespace impasto::studio {

struct AccessDecision {
    enum class Kind { Allow, Refuse, SetCookieAndRedirect };
    Kind kind = Kind::Allow;
    int status = 200;
    std::string code;       // Refuse: the JSON error code
    std::string message;    // Refuse: the JSON error message
    std::string location;   // SetCookieAndRedirect: where to
    std::string set_cookie; // SetCookieAndRedirect: the Set-Cookie value
};

class StudioAccess {
  public:
    // `token` empty: no token (the server binds to loopback only). `port` names the cookie, so two
    // studios on one machine do not overwrite each other's.
    StudioAccess(std::string token, int port);

    AccessDecision check(const httplib::Request& req) const;

    // "impasto_studio_<port>"
    const std::string& cookie_name() const { return cookie_name_; }

  private:
    bool has_token() const { return !token_.empty(); }
    bool bearer_matches(const httplib::Request& req) const;
    bool cookie_matches(const httplib::Request& req) const;

    std::string token_;
    std::string cookie_value_; // derived from the token: the cookie never holds the token itself
    std::string cookie_name_;
};

// Compares in time independent of where the strings differ.
bool same_secret(const std::string& a, const std::string& b);

} // namespace impasto::studio
