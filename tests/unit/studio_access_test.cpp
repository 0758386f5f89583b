// Who may use the studio: Host, Origin, Sec-Fetch-Site, the token in headers, cookie and URL.
#include "server/studio_access.h"

#include <gtest/gtest.h>

namespace impasto::studio {
namespace {

using Kind = AccessDecision::Kind;

constexpr int kPort = 8765;
const std::string kToken = "s3cret-token-123";

httplib::Request request(const std::string& method, const std::string& path, const httplib::Headers& headers,
                         const httplib::Params& params = {}) {
    httplib::Request req;
    req.method = method;
    req.path = path;
    req.headers = headers;
    req.params = params;
    return req;
}

httplib::Request get(const std::string& path, httplib::Headers headers = {{"Host", "127.0.0.1:8765"}},
                     const httplib::Params& params = {}) {
    return request("GET", path, headers, params);
}

void expect_refused(const AccessDecision& decision, int status, const std::string& why) {
    EXPECT_EQ(decision.kind, Kind::Refuse) << why;
    EXPECT_EQ(decision.status, status) << why;
}

// The cookie value the server hands out after a page load with ?token=.
std::string issued_cookie(const StudioAccess& access) {
    const AccessDecision login = access.check(get("/", {{"Host", "127.0.0.1:8765"}}, {{"token", kToken}}));
    const std::string prefix = access.cookie_name() + "=";
    const std::string& cookie = login.set_cookie;
    return cookie.substr(prefix.size(), cookie.find(';') - prefix.size());
}

TEST(StudioAccess, WithoutATokenOnlyLoopbackHostsAreServed) {
    const StudioAccess access("", kPort);
    EXPECT_EQ(access.check(get("/api/info")).kind, Kind::Allow);
    EXPECT_EQ(access.check(get("/api/info", {{"Host", "localhost:8765"}})).kind, Kind::Allow);
    EXPECT_EQ(access.check(get("/api/info", {{"Host", "[::1]:8765"}})).kind, Kind::Allow);
    for (const char* host : {"127.0.0.1.evil.com:8765", "127.evil:8765", "127.0.0.1.nip.io:8765",
                             "localhost.evil.com:8765", "0x7f.0.0.1:8765", "attacker.example"}) {
        expect_refused(access.check(get("/api/info", {{"Host", host}})), 403, host);
        expect_refused(access.check(get("/", {{"Host", host}})), 403, host);
    }
    expect_refused(access.check(get("/api/info", {})), 400, "no Host");
    expect_refused(access.check(get("/api/info", {{"Host", "127.0.0.1:8765"}, {"Host", "evil.com"}})), 400,
                   "two Hosts");
    expect_refused(access.check(get("/api/info", {{"Host", "127.0.0.1:"}})), 400, "empty port");
}

TEST(StudioAccess, OriginsMustBeThisServerOnEveryMethod) {
    const StudioAccess access("", kPort);
    const httplib::Headers own{{"Host", "127.0.0.1:8765"}, {"Origin", "http://127.0.0.1:8765"}};
    EXPECT_EQ(access.check(request("POST", "/api/jobs", own)).kind, Kind::Allow);
    EXPECT_EQ(access.check(request("GET", "/api/info", own)).kind, Kind::Allow);
    for (const char* origin :
         {"http://evil.example", "null", "http://127.0.0.1:8766", "http://localhost:8765", "http://127.0.0.1:87650",
          "http://127.0.0.1:8765.evil.com", "http://127.0.0.1:8765/", "ftp://127.0.0.1:8765", ""}) {
        for (const char* method : {"GET", "POST", "HEAD"}) {
            expect_refused(access.check(request(method, "/api/info", {{"Host", "127.0.0.1:8765"}, {"Origin", origin}})),
                           403, std::string(method) + " " + origin);
        }
    }
    expect_refused(
        access.check(request(
            "POST", "/api/jobs",
            {{"Host", "127.0.0.1:8765"}, {"Origin", "http://127.0.0.1:8765"}, {"Origin", "http://evil.example"}})),
        400, "two Origins");
    expect_refused(access.check(request("OPTIONS", "/api/jobs", own)), 403, "preflight");
}

TEST(StudioAccess, WorkFromAnotherSiteIsRefusedButThePageMayBeLinked) {
    const StudioAccess access("", kPort);
    for (const char* site : {"cross-site", "same-site", "CROSS-SITE", "something-new"}) {
        const httplib::Headers headers{{"Host", "127.0.0.1:8765"}, {"Sec-Fetch-Site", site}};
        expect_refused(access.check(get("/api/images/u_0123", headers, {{"size", "2048"}})), 403, site);
        expect_refused(access.check(get("/api/jobs/j_0/preview", headers)), 403, site);
        expect_refused(access.check(get("/api/images", headers)), 403, site);
        expect_refused(access.check(request("POST", "/api/jobs", headers)), 403, site);
        EXPECT_EQ(access.check(get("/", headers)).kind, Kind::Allow) << site;
        EXPECT_EQ(access.check(get("/index.html", headers)).kind, Kind::Allow) << site;
    }
    for (const char* site : {"same-origin", "none"}) {
        const httplib::Headers headers{{"Host", "127.0.0.1:8765"}, {"Sec-Fetch-Site", site}};
        EXPECT_EQ(access.check(get("/api/images/u_0123", headers, {{"size", "2048"}})).kind, Kind::Allow) << site;
    }
}

TEST(StudioAccess, ATokenIsTakenFromTheBearerHeaderOrTheCookie) {
    const StudioAccess access(kToken, kPort);
    expect_refused(access.check(get("/api/info")), 401, "nothing");
    expect_refused(access.check(get("/")), 401, "the page without the token");
    EXPECT_EQ(access.check(get("/api/info", {{"Host", "127.0.0.1:8765"}, {"Authorization", "Bearer " + kToken}})).kind,
              Kind::Allow);
    EXPECT_EQ(access.check(get("/api/info", {{"Host", "127.0.0.1:8765"}, {"Authorization", "bearer " + kToken}})).kind,
              Kind::Allow);
    for (const std::string& wrong : {"Bearer " + kToken + "x", "Bearer " + kToken.substr(1), std::string("Bearer "),
                                     "Basic " + kToken, kToken, "Bearer  " + kToken}) {
        expect_refused(access.check(get("/api/info", {{"Host", "127.0.0.1:8765"}, {"Authorization", wrong}})), 401,
                       wrong);
    }
    // Behind a proxy any Host is fine once the token is there.
    EXPECT_EQ(access.check(get("/api/info", {{"Host", "studio.example"}, {"Authorization", "Bearer " + kToken}})).kind,
              Kind::Allow);

    const std::string cookie = issued_cookie(access);
    ASSERT_FALSE(cookie.empty());
    EXPECT_EQ(cookie.find(kToken), std::string::npos) << "the cookie must not hold the token itself";
    const std::string name = access.cookie_name();
    EXPECT_EQ(name, "impasto_studio_8765");
    for (const std::string& header :
         {name + "=" + cookie, "a=b; " + name + "=" + cookie + "; c=d", "x=1;" + name + "=" + cookie}) {
        EXPECT_EQ(access.check(get("/api/images", {{"Host", "127.0.0.1:8765"}, {"Cookie", header}})).kind, Kind::Allow)
            << header;
    }
    for (const std::string& header : {name + "=" + kToken, name + "=" + cookie + "x", name + "=",
                                      "impasto_studio_8766=" + cookie, "x" + name + "=" + cookie}) {
        expect_refused(access.check(get("/api/images", {{"Host", "127.0.0.1:8765"}, {"Cookie", header}})), 401, header);
    }
    // The cookie is no proof of intent from another site; the bearer header is.
    expect_refused(access.check(get(
                       "/api/images",
                       {{"Host", "127.0.0.1:8765"}, {"Cookie", name + "=" + cookie}, {"Sec-Fetch-Site", "same-site"}})),
                   403, "cookie from another site");
    EXPECT_EQ(access
                  .check(get("/api/images", {{"Host", "127.0.0.1:8765"},
                                             {"Authorization", "Bearer " + kToken},
                                             {"Sec-Fetch-Site", "cross-site"}}))
                  .kind,
              Kind::Allow);
}

TEST(StudioAccess, TheTokenInTheAddressBecomesACookieOnThePageOnly) {
    const StudioAccess access(kToken, kPort);
    const AccessDecision login = access.check(get("/", {{"Host", "127.0.0.1:8765"}}, {{"token", kToken}}));
    ASSERT_EQ(login.kind, Kind::SetCookieAndRedirect);
    EXPECT_EQ(login.status, 303);
    EXPECT_EQ(login.location, "/");
    EXPECT_NE(login.set_cookie.find("HttpOnly"), std::string::npos);
    EXPECT_NE(login.set_cookie.find("SameSite=Strict"), std::string::npos);
    EXPECT_NE(login.set_cookie.find("Path=/"), std::string::npos);
    EXPECT_EQ(login.set_cookie.find("Secure"), std::string::npos) << "plain http: a Secure cookie is never sent";
    const AccessDecision index = access.check(get("/index.html", {{"Host", "127.0.0.1:8765"}}, {{"token", kToken}}));
    EXPECT_EQ(index.kind, Kind::SetCookieAndRedirect);
    EXPECT_EQ(index.location, "/index.html");
    const AccessDecision proxied =
        access.check(get("/", {{"Host", "studio.example"}, {"X-Forwarded-Proto", "https"}}, {{"token", kToken}}));
    EXPECT_NE(proxied.set_cookie.find("; Secure"), std::string::npos);

    expect_refused(access.check(get("/", {{"Host", "127.0.0.1:8765"}}, {{"token", "wrong-token-123"}})), 401,
                   "wrong token in the address");
    expect_refused(access.check(get("/", {{"Host", "127.0.0.1:8765"}}, {{"token", kToken}, {"token", kToken}})), 401,
                   "two tokens");
    // Anywhere else ?token= is no credential.
    for (const char* path : {"/api/info", "/api/images/u_0", "/api/jobs/j_0/events", "/assets/app.js"}) {
        expect_refused(access.check(get(path, {{"Host", "127.0.0.1:8765"}}, {{"token", kToken}})), 401, path);
    }
    expect_refused(access.check(request("POST", "/", {{"Host", "127.0.0.1:8765"}}, {{"token", kToken}})), 401,
                   "POST / with ?token=");
}

} // namespace
} // namespace impasto::studio
