// BoundedHttpServer: deadlines on requests and replies, the header cap, one range at most, and a
// thrown content provider that must not end the process. One HTTP thread, so that a single held
// connection would block every other client.
#include "server/bounded_http_server.h"

#include <arpa/inet.h>
#include <atomic>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace impasto::studio {
namespace {

using namespace std::chrono_literals;

const std::string kBody(5000, 'b');

class BoundedServer : public ::testing::Test {
  protected:
    void start(ConnectionLimits limits) {
        server_ = std::make_unique<BoundedHttpServer>(limits);
        server_->new_task_queue = [] { return new httplib::ThreadPool(1); };
        server_->Get("/body",
                     [](const httplib::Request&, httplib::Response& res) { res.set_content(kBody, "text/plain"); });
        // Chunks every 200 ms for `ms` milliseconds; ?long=1 marks the reply as long.
        server_->Get("/drip", [](const httplib::Request& req, httplib::Response& res) {
            if (req.has_param("long")) {
                BoundedHttpServer::allow_long_response();
            }
            const int ms = std::stoi(req.get_param_value("ms"));
            auto sent = std::make_shared<int>(0);
            res.set_chunked_content_provider("text/plain", [ms, sent](std::size_t, httplib::DataSink& sink) {
                if (*sent >= ms) {
                    sink.done();
                    return true;
                }
                std::this_thread::sleep_for(200ms);
                *sent += 200;
                return sink.write(".", 1);
            });
        });
        server_->Get("/throw", [](const httplib::Request&, httplib::Response& res) {
            res.set_chunked_content_provider("text/plain", [](std::size_t, httplib::DataSink&) -> bool {
                throw std::runtime_error("the database went away");
            });
        });
        port_ = server_->bind_to_any_port("127.0.0.1");
        ASSERT_GT(port_, 0);
        listener_ = std::thread([this] { server_->listen_after_bind(); });
        while (!server_->is_running()) {
            std::this_thread::sleep_for(5ms);
        }
    }
    void TearDown() override {
        if (server_) {
            server_->stop();
        }
        if (listener_.joinable()) {
            listener_.join();
        }
    }
    httplib::Client client(int read_timeout_s = 10) const {
        httplib::Client http("127.0.0.1", port_);
        http.set_read_timeout(read_timeout_s, 0);
        return http;
    }

    std::unique_ptr<BoundedHttpServer> server_;
    std::thread listener_;
    int port_ = 0;
};

int connect_to(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    return fd;
}

bool send_all(int fd, const std::string& text) {
    return ::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
}

// Reads until the server closes or `limit` passes; true when it closed.
bool read_until_closed(int fd, std::chrono::milliseconds limit, std::string* out = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd entry{fd, POLLIN, 0};
        if (::poll(&entry, 1, 50) <= 0) {
            continue;
        }
        char buffer[4096];
        const ssize_t got = ::recv(fd, buffer, sizeof(buffer), 0);
        if (got <= 0) {
            return true;
        }
        if (out != nullptr) {
            out->append(buffer, static_cast<std::size_t>(got));
        }
    }
    return false;
}

TEST_F(BoundedServer, ATricklingRequestIsCutAtItsDeadline) {
    ConnectionLimits limits;
    limits.request_deadline = 1s;
    ASSERT_NO_FATAL_FAILURE(start(limits));
    const int slow = connect_to(port_);
    ASSERT_TRUE(send_all(slow, "GET /body HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "));
    std::atomic<bool> stop{false};
    std::thread trickle([&] {
        for (int i = 0; i < 100 && !stop; ++i) { // a byte each 200 ms for 20 s
            send_all(slow, "x");
            std::this_thread::sleep_for(200ms);
        }
    });
    std::this_thread::sleep_for(200ms); // the only thread is now the slow client's
    auto http = client(10);
    const auto result = http.Get("/body");
    const bool closed = read_until_closed(slow, 10s);
    stop = true;
    trickle.join();
    ::close(slow);
    ASSERT_TRUE(result) << "the only HTTP thread stayed with the trickling client";
    EXPECT_EQ(result->status, 200);
    EXPECT_TRUE(closed) << "the trickling connection was kept open";
}

TEST_F(BoundedServer, HeadersOverTheCapAreRefused) {
    ConnectionLimits limits;
    limits.max_head_bytes = 16 * 1024;
    ASSERT_NO_FATAL_FAILURE(start(limits));
    std::string head = "GET /body HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    while (head.size() < 64 * 1024) {
        head += "X-Fill: " + std::string(60, 'f') + "\r\n";
    }
    const int fd = connect_to(port_);
    send_all(fd, head + "\r\n");
    std::string reply;
    read_until_closed(fd, 5s, &reply);
    ::close(fd);
    EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), std::string::npos) << "64 KiB of headers were read in full";
    // Under the cap a request is served, its headers all there.
    std::string fine = "GET /body HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    while (fine.size() < 12 * 1024) {
        fine += "X-Fill: " + std::string(60, 'f') + "\r\n";
    }
    const int ok = connect_to(port_);
    send_all(ok, fine + "\r\n");
    std::string served;
    read_until_closed(ok, 5s, &served);
    ::close(ok);
    EXPECT_EQ(served.rfind("HTTP/1.1 200", 0), 0U) << served.substr(0, 200);
}

TEST_F(BoundedServer, SeveralRangesGetTheBodyOnce) {
    ASSERT_NO_FATAL_FAILURE(start({}));
    auto http = client();
    std::string ranges = "bytes=0-";
    while (ranges.size() < 6000) {
        ranges += ",0-";
    }
    for (const std::string& header : {ranges, std::string("bytes=0-1,0-4999,10-20")}) {
        const auto result = http.Get("/body", {{"Range", header}});
        ASSERT_TRUE(result);
        EXPECT_EQ(result->status, 200);
        EXPECT_EQ(result->body.size(), kBody.size())
            << "the body, or a multipart of " << result->body.size() << " bytes";
        EXPECT_TRUE(result->body == kBody);
    }
    const auto one = http.Get("/body", {{"Range", "bytes=10-19"}});
    ASSERT_TRUE(one);
    EXPECT_EQ(one->status, 206);
    EXPECT_EQ(one->body, kBody.substr(10, 10));
}

TEST_F(BoundedServer, RepliesEndAtTheirDeadlineUnlessMarkedLong) {
    ConnectionLimits limits;
    limits.response_deadline = 1s;
    ASSERT_NO_FATAL_FAILURE(start(limits));
    auto http = client();
    const auto cut = http.Get("/drip?ms=3000");
    EXPECT_TRUE(!cut || cut->body.size() < 15) << "a 3 s reply outlived its 1 s deadline";
    const auto long_reply = http.Get("/drip?ms=2000&long=1");
    ASSERT_TRUE(long_reply);
    EXPECT_EQ(long_reply->body, std::string(10, '.'));
}

TEST_F(BoundedServer, AThrowingContentProviderEndsOnlyItsConnection) {
    ASSERT_NO_FATAL_FAILURE(start({}));
    auto http = client();
    const auto thrown = http.Get("/throw");
    EXPECT_TRUE(!thrown || thrown->body.empty());
    const auto after = http.Get("/body");
    ASSERT_TRUE(after);
    EXPECT_TRUE(after->body == kBody);
}

} // namespace
} // namespace impasto::studio
