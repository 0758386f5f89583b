// The studio's defences against the real `impasto serve`: loopback names that are only lookalikes,
// the token moving from the address to a cookie, requests from other sites, security headers,
// Range and header floods, clients that trickle bytes, and error replies that name no server
// path and no SQL.
#include "studio_fixture.h"

#include <arpa/inet.h>
#include <atomic>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

namespace impasto::e2e {
namespace {

class StudioSecurity : public ::testing::Test {
  protected:
    void start(const std::vector<std::string>& extra = {}) {
        server_ = std::make_unique<StudioProcess>(temp_.path() / "data");
        ASSERT_NO_FATAL_FAILURE(server_->start(extra));
    }
    httplib::Client http() const { return server_->client(); }
    std::string host() const { return "127.0.0.1:" + std::to_string(server_->port()); }

    TempDir temp_;
    std::unique_ptr<StudioProcess> server_;
};

// A raw TCP connection, for what httplib's client will not send.
class RawConnection {
  public:
    explicit RawConnection(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(static_cast<std::uint16_t>(port));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    }
    ~RawConnection() { ::close(fd_); }
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    bool connected() const { return connected_; }
    bool send_text(const std::string& text) {
        return ::send(fd_, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
    }
    // What arrives within `limit`, until the server closes or a reply's head is complete.
    std::string receive(std::chrono::milliseconds limit) {
        std::string out;
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (true) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            pollfd entry{fd_, POLLIN, 0};
            if (left.count() <= 0 || ::poll(&entry, 1, static_cast<int>(left.count())) <= 0) {
                return out;
            }
            char buffer[4096];
            const ssize_t got = ::recv(fd_, buffer, sizeof(buffer), 0);
            if (got <= 0) {
                closed_ = true;
                return out;
            }
            out.append(buffer, static_cast<std::size_t>(got));
            if (out.find("\r\n\r\n") != std::string::npos) {
                return out;
            }
        }
    }
    // The server closed its side: what it sent is read, then end of file (or a reset) comes.
    bool closed_by_server() {
        while (!closed_) {
            pollfd entry{fd_, POLLIN, 0};
            if (::poll(&entry, 1, 0) <= 0) {
                return false;
            }
            char buffer[4096];
            closed_ = ::recv(fd_, buffer, sizeof(buffer), MSG_DONTWAIT) <= 0;
        }
        return true;
    }

  private:
    int fd_;
    bool connected_ = false;
    bool closed_ = false;
};

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}

// A reply to a client names no folder of the server and says nothing of SQL.
void expect_safe_text(const std::string& text, const fs::path& root, const std::string& what) {
    EXPECT_EQ(text.find(root.string()), std::string::npos) << what << ": " << text;
    for (const char* folder : {"/tmp/", "/usr/", "/home/", "/root/", "/var/", "/srv/", "/work/"}) {
        EXPECT_EQ(text.find(folder), std::string::npos) << what << " names " << folder << ": " << text;
    }
    const std::string low = lower(text);
    for (const char* word : {"sqlite", "sql ", "select ", "insert ", "update ", "no such table", "database '"}) {
        EXPECT_EQ(low.find(word), std::string::npos) << what << " mentions '" << word << "': " << text;
    }
}

TEST_F(StudioSecurity, HostNamesThatOnlyLookLikeLoopbackAreRefused) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto client = http();
    const std::string port = std::to_string(server_->port());
    for (const std::string& name : {"127.0.0.1.evil.com", "127.evil", "127.0.0.1.nip.io", "localhost.evil.com",
                                    "0x7f.0.0.1", "127.1", "2130706433", "[::ffff:127.0.0.1]", "127.0.0.1."}) {
        const auto result = client.Get("/api/info", {{"Host", name + ":" + port}});
        ASSERT_TRUE(result) << name;
        EXPECT_EQ(result->status, 403) << name << ": " << result->body;
        const auto page = client.Get("/", {{"Host", name + ":" + port}});
        ASSERT_TRUE(page) << name;
        EXPECT_EQ(page->status, 403) << name;
    }
    for (const std::string& bad :
         std::vector<std::string>{"127.0.0.1:", "127.0.0.1:99999", "evil.com@127.0.0.1:" + port}) {
        const auto result = client.Get("/api/info", {{"Host", bad}});
        ASSERT_TRUE(result) << bad;
        EXPECT_EQ(result->status, 400) << bad;
    }
    for (const std::string& good : {"127.0.0.1:" + port, "localhost:" + port, "LOCALHOST:" + port}) {
        const auto result = client.Get("/api/info", {{"Host", good}});
        ASSERT_TRUE(result) << good;
        EXPECT_EQ(result->status, 200) << good << ": " << result->body;
    }
}

// Such a --host binds wherever DNS (or inet_aton) says: it needs a token like any other address.
TEST(StudioServeHost, ABindAddressThatOnlyLooksLoopbackNeedsAToken) {
    TempDir temp;
    for (const char* host : {"127.0.0.1.nip.io", "127.1", "127.0.0.1.", "localhost.localdomain"}) {
        const CliRun run = run_cli(std::string("serve --host ") + host + " --port 0 --gallery none --data " +
                                       shell_quote((temp.path() / "data").string()),
                                   temp.path(), "timeout 30");
        expect_one_line_error(run, 2, "--token");
    }
}

TEST_F(StudioSecurity, TheTokenInTheAddressBecomesACookieAndLeavesTheAddress) {
    const std::string token = "t0ken-for-the-cookie";
    ASSERT_NO_FATAL_FAILURE(start({"--token", token}));
    auto client = http();
    const auto login = client.Get("/?token=" + token);
    ASSERT_TRUE(login);
    EXPECT_EQ(login->status, 303);
    EXPECT_EQ(login->get_header_value("Location"), "/");
    const std::string set_cookie = login->get_header_value("Set-Cookie");
    EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos) << set_cookie;
    EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos) << set_cookie;
    EXPECT_NE(set_cookie.find("Path=/"), std::string::npos) << set_cookie;
    EXPECT_EQ(set_cookie.find(token), std::string::npos) << "the cookie holds the token itself: " << set_cookie;
    const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));

    for (const std::string& path : {"/", "/api/info", "/api/images", "/assets/app.js", "/assets/style.css"}) {
        const auto with_cookie = client.Get(path, {{"Cookie", cookie}});
        ASSERT_TRUE(with_cookie) << path;
        EXPECT_EQ(with_cookie->status, 200) << path << ": " << with_cookie->body;
        const auto without = client.Get(path);
        ASSERT_TRUE(without) << path;
        EXPECT_EQ(without->status, 401) << path;
    }
    // The token in the address is taken on the page only; anywhere else it is no credential.
    for (const std::string& path : {"/api/info", "/api/images", "/assets/app.js", "/api/votes.csv"}) {
        const auto result = client.Get(path + "?token=" + token);
        ASSERT_TRUE(result) << path;
        EXPECT_EQ(result->status, 401) << path;
    }
    const auto wrong = client.Get("/?token=wrong-token-here");
    ASSERT_TRUE(wrong);
    EXPECT_EQ(wrong->status, 401);
    EXPECT_FALSE(wrong->has_header("Set-Cookie"));
    const auto bearer = client.Get("/api/info", {{"Authorization", "Bearer " + token}});
    ASSERT_TRUE(bearer);
    EXPECT_EQ(bearer->status, 200);
}

TEST_F(StudioSecurity, WorkAskedForByAnotherSiteIsRefused) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto client = http();
    const std::string id = upload_id(client, 40, 30);
    const std::string thumb = "/api/images/" + id + "?size=2048";
    const std::string own = "http://" + host();
    for (const httplib::Headers& foreign : std::vector<httplib::Headers>{
             {{"Sec-Fetch-Site", "cross-site"}},
             {{"Sec-Fetch-Site", "same-site"}},
             {{"Origin", "http://evil.example"}},
             {{"Origin", "null"}},
             {{"Origin", own + "0"}},
             {{"Origin", "http://localhost:" + std::to_string(server_->port())}},
         }) {
        for (const std::string& path : {thumb, "/api/images/" + id, std::string("/api/images"),
                                        std::string("/api/jobs"), std::string("/api/ranking.csv")}) {
            const auto result = client.Get(path, foreign);
            ASSERT_TRUE(result) << path;
            EXPECT_EQ(result->status, 403) << path << " from " << foreign.begin()->second;
        }
    }
    for (const httplib::Headers& same : std::vector<httplib::Headers>{
             {{"Sec-Fetch-Site", "same-origin"}}, {{"Sec-Fetch-Site", "none"}}, {{"Origin", own}}, {}}) {
        const auto result = client.Get(thumb, same);
        ASSERT_TRUE(result);
        EXPECT_EQ(result->status, 200) << (same.empty() ? "no headers" : same.begin()->second);
    }
    // The page itself may be opened from a link elsewhere: it does no work.
    const auto page = client.Get("/", {{"Sec-Fetch-Site", "cross-site"}});
    ASSERT_TRUE(page);
    EXPECT_EQ(page->status, 200);
}

TEST_F(StudioSecurity, EveryResponseCarriesTheSecurityHeaders) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto client = http();
    auto expect_headers = [](const httplib::Result& result, const std::string& what) {
        ASSERT_TRUE(result) << what;
        const std::string csp = result->get_header_value("Content-Security-Policy");
        EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << what << ": " << csp;
        EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << what << ": " << csp;
        EXPECT_NE(csp.find("base-uri 'none'"), std::string::npos) << what << ": " << csp;
        EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << what << ": " << csp;
        EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos) << what << ": " << csp;
        EXPECT_EQ(result->get_header_value("X-Content-Type-Options"), "nosniff") << what;
        EXPECT_FALSE(result->get_header_value("Referrer-Policy").empty()) << what;
    };
    const auto page = client.Get("/");
    expect_headers(page, "the page");
    // The page has no inline script for the policy to forbid.
    for (std::size_t at = page->body.find("<script"); at != std::string::npos;
         at = page->body.find("<script", at + 1)) {
        const std::string tag = page->body.substr(at, page->body.find('>', at) - at);
        EXPECT_NE(tag.find("src="), std::string::npos) << "inline script: " << tag;
    }
    expect_headers(client.Get("/assets/app.js"), "a script");
    expect_headers(client.Get("/api/info"), "JSON");
    expect_headers(client.Get("/api/no/such/route"), "404");
    expect_headers(client.Get("/api/info", {{"Host", "evil.example"}}), "403");
    expect_headers(client.Post("/api/jobs", "{not json", "application/json"), "400");

    // A malformed request line is answered by the HTTP library itself: still with the headers.
    RawConnection raw(server_->port());
    ASSERT_TRUE(raw.connected());
    ASSERT_TRUE(raw.send_text("NONSENSE\r\nHost: " + host() + "\r\n\r\n"));
    const std::string reply = raw.receive(std::chrono::seconds(10));
    EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0U) << reply;
    EXPECT_NE(reply.find("X-Content-Type-Options: nosniff"), std::string::npos) << reply;
}

// cpp-httplib 0.11 answers N ranges with a multipart body of N parts; here it gets the file once.
TEST_F(StudioSecurity, ManyRangesGetNoMoreThanTheFile) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto client = http();
    const std::string png = png_bytes(testing::gradient_image(64, 48));
    const std::string id = body_json(upload(client, png)).value("id", "");
    ASSERT_FALSE(id.empty());
    std::string ranges = "bytes=0-";
    while (ranges.size() < 7000) {
        ranges += ",0-";
    }
    const auto many = client.Get("/api/images/" + id, {{"Range", ranges}});
    ASSERT_TRUE(many);
    EXPECT_TRUE(many->status == 200 || many->status == 416) << many->status;
    EXPECT_LE(many->body.size(), png.size())
        << "a reply of " << many->body.size() << " bytes for a file of " << png.size();
    const auto overlapping = client.Get("/api/images/" + id, {{"Range", "bytes=0-10,5-20,1-1,-5"}});
    ASSERT_TRUE(overlapping);
    EXPECT_LE(overlapping->body.size(), png.size());
    // One range still works, and the server goes on serving.
    const auto one = client.Get("/api/images/" + id, {{"Range", "bytes=0-9"}});
    ASSERT_TRUE(one);
    EXPECT_EQ(one->status, 206);
    EXPECT_EQ(one->body, png.substr(0, 10));
    const auto info = client.Get("/api/info");
    ASSERT_TRUE(info);
    EXPECT_EQ(info->status, 200);
}

TEST_F(StudioSecurity, AHeaderFloodIsCutShort) {
    ASSERT_NO_FATAL_FAILURE(start());
    RawConnection raw(server_->port());
    ASSERT_TRUE(raw.connected());
    std::string request = "GET /api/info HTTP/1.1\r\nHost: " + host() + "\r\n";
    const std::string line = "X-Fill: " + std::string(100, 'x') + "\r\n";
    while (request.size() < 1024 * 1024) {
        request += line;
    }
    request += "\r\n";
    raw.send_text(request); // the server may close before it has all of it
    const std::string reply = raw.receive(std::chrono::seconds(20));
    EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), std::string::npos) << "a megabyte of headers was read in full";
    auto client = http();
    const auto info = client.Get("/api/info");
    ASSERT_TRUE(info);
    EXPECT_EQ(info->status, 200);
}

// Each trickling client would hold one HTTP thread for as long as it kept sending; with more of
// them than threads, nobody else would be served. The request deadline frees the threads.
TEST_F(StudioSecurity, ClientsThatTrickleBytesCannotHoldTheThreads) {
    // One stream slot: 1 + 8 spare HTTP threads, fewer than the slow clients below.
    ASSERT_NO_FATAL_FAILURE(start({"--max-streams", "1", "--request-timeout", "3"}));
    constexpr int kSlowClients = 12;
    std::vector<std::unique_ptr<RawConnection>> slow;
    for (int i = 0; i < kSlowClients; ++i) {
        slow.push_back(std::make_unique<RawConnection>(server_->port()));
        ASSERT_TRUE(slow.back()->connected());
        ASSERT_TRUE(slow.back()->send_text("GET /api/info HTTP/1.1\r\nHost: " + host() + "\r\nX-Slow: "));
    }
    // A byte a second each, for up to 60 s: far longer than the normal request below may wait.
    std::atomic<bool> stop{false};
    std::thread trickle([&] {
        for (int second = 0; second < 60 && !stop; ++second) {
            for (auto& connection : slow) {
                connection->send_text("x");
            }
            std::this_thread::sleep_for(std::chrono::seconds(1));
        }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto client = http();
    client.set_read_timeout(20, 0);
    const auto info = client.Get("/api/info");
    const bool served = info && info->status == 200;
    // The server ends each slow request at its deadline.
    const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    int closed = 0;
    while (std::chrono::steady_clock::now() < limit) {
        closed = 0;
        for (auto& connection : slow) {
            closed += connection->closed_by_server() ? 1 : 0;
        }
        if (closed == kSlowClients) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    stop = true;
    trickle.join();
    EXPECT_TRUE(served) << "a normal request was not served while slow clients held the threads";
    EXPECT_EQ(closed, kSlowClients) << "slow requests still open after their deadline";
}

TEST_F(StudioSecurity, ErrorRepliesNameNoServerPathAndNoSql) {
    // Fast-style models in a folder of the test's own, so one can be broken under the server.
    const fs::path models = temp_.path() / "models";
    fs::create_directories(models);
    const fs::path source_model = fs::path(IMPASTO_SOURCE_DIR) / "models" / "starry_night.impasto";
    ASSERT_TRUE(fs::exists(source_model)) << source_model;
    fs::copy_file(source_model, models / "starry_night.impasto");
    ASSERT_NO_FATAL_FAILURE(start({"--models", models.string(), "--workers", "1"}));
    auto client = http();
    const fs::path root = temp_.path();
    auto check = [&](const httplib::Result& result, const std::string& what) {
        ASSERT_TRUE(result) << what;
        expect_safe_text(result->body, root, what);
    };

    // 1. A bad model: the file is damaged after the server listed it.
    const std::string content = upload_id(client, 48, 40);
    write_text(models / "starry_night.impasto", "not a model at all");
    const json broken = submit(client, {{"method", "fast"}, {"content", content}, {"params", {{"size", 48}}}});
    const json failed = wait_for_job(client, broken.value("id", ""), {"failed", "done"});
    EXPECT_EQ(failed.value("state", ""), "failed") << failed.dump();
    check(client.Get("/api/jobs/" + broken.value("id", "")), "a job whose model is broken");
    check(client.Get("/api/jobs"), "the job list");
    std::string stream;
    client.Get("/api/jobs/" + broken.value("id", "") + "/events", [&](const char* data, std::size_t size) {
        stream.append(data, size);
        return true;
    });
    EXPECT_NE(stream.find("failed"), std::string::npos) << stream;
    expect_safe_text(stream, root, "the event stream of a failed job");

    // 2. An upload deleted from disk under the server.
    const std::string gone = upload_id(client, 36, 36);
    for (const auto& entry : fs::directory_iterator(server_->data_dir() / "uploads")) {
        if (entry.path().filename().string().rfind(gone, 0) == 0) {
            fs::remove(entry.path());
        }
    }
    check(client.Get("/api/images/" + gone), "the bytes of a deleted upload");
    check(client.Get("/api/images/" + gone + "?size=64"), "the thumbnail of a deleted upload");
    const auto submitted =
        client.Post("/api/jobs", json{{"method", "arbitrary"}, {"content", gone}, {"styles", {content}}}.dump(),
                    "application/json");
    check(submitted, "a job on a deleted upload");
    const std::string gone_job = body_json(submitted).value("id", "");
    if (!gone_job.empty()) {
        wait_for_job(client, gone_job, {"failed", "done"});
        check(client.Get("/api/jobs/" + gone_job), "a job on a deleted upload, ended");
    }

    // 3. A broken database: the jobs table disappears under the server.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((server_->data_dir() / "studio.sqlite3").c_str(), &db), SQLITE_OK);
    char* message = nullptr;
    const int renamed = sqlite3_exec(db, "ALTER TABLE jobs RENAME TO jobs_gone", nullptr, nullptr, &message);
    sqlite3_free(message);
    sqlite3_close(db);
    ASSERT_EQ(renamed, SQLITE_OK);
    int errors = 0;
    for (const std::string& path : std::vector<std::string>{"/api/jobs", "/api/info", "/api/jobs/" + gone_job,
                                                            "/api/ranking", "/api/compare/next", "/api/votes.csv"}) {
        const auto result = client.Get(path);
        check(result, "GET " + path + " with a broken database");
        errors += result && result->status >= 500 ? 1 : 0;
    }
    const auto post =
        client.Post("/api/jobs", json{{"method", "fast"}, {"content", content}}.dump(), "application/json");
    check(post, "POST /api/jobs with a broken database");
    EXPECT_GT(errors, 0) << "the broken database provoked no error: the check above proved nothing";
    // What the clients were not told is in the server's own log.
    EXPECT_NE(server_->log_text().find("no such table"), std::string::npos) << server_->log_text();
}

} // namespace
} // namespace impasto::e2e
