#pragma once
// Helpers of the studio's limit and fault tests: requests from another loopback address (a second
// client), SQL on the studio's database behind the server's back, and files of known age and size.
#include "studio_fixture.h"

#include <arpa/inet.h>
#include <cstring>
#include <netinet/in.h>
#include <random>
#include <sqlite3.h>
#include <sys/socket.h>

namespace impasto::e2e {

struct RawReply {
    int status = 0; // 0: no reply (the connection failed or the server died)
    std::string body;
};

// One HTTP/1.1 request over a socket bound to `source_ip` (any 127/8 address reaches a server
// listening on 127.0.0.1), so the server sees it as another client.
inline RawReply raw_request(const std::string& source_ip, int port, const std::string& method, const std::string& path,
                            const std::string& body = "", const std::string& extra_headers = "") {
    RawReply reply;
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return reply;
    }
    sockaddr_in source{};
    source.sin_family = AF_INET;
    ::inet_pton(AF_INET, source_ip.c_str(), &source.sin_addr);
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
    timeval timeout{30, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0 ||
        ::connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
        ::close(fd);
        return reply;
    }
    const std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
                                "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                                "\r\n" + extra_headers + "\r\n" + body;
    std::size_t sent = 0;
    while (sent < request.size()) {
        const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) {
            break;
        }
        sent += static_cast<std::size_t>(n);
    }
    std::string response;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) {
            break;
        }
        response.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    if (response.rfind("HTTP/1.1 ", 0) == 0 && response.size() > 12) {
        reply.status = std::stoi(response.substr(9, 3));
        const std::size_t end = response.find("\r\n\r\n");
        reply.body = end == std::string::npos ? "" : response.substr(end + 4);
    }
    return reply;
}

// Runs SQL on the database file as another connection would (the server may be stopped or running).
inline void sql(const fs::path& database, const std::string& statement) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(database.c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char* error = nullptr;
    const int result = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &error);
    const std::string message = error != nullptr ? error : "";
    sqlite3_free(error);
    sqlite3_close(db);
    ASSERT_EQ(result, SQLITE_OK) << message << "\n" << statement;
}

// Noise does not compress: a PNG of about width*height*3 bytes, distinct per seed.
inline std::string noise_png(int width, int height, unsigned seed) {
    Image image;
    image.width = width;
    image.height = height;
    image.rgb.resize(static_cast<std::size_t>(width) * height * 3);
    std::mt19937 generator(seed);
    std::uniform_real_distribution<float> uniform(0.0F, 1.0F);
    for (float& value : image.rgb) {
        value = uniform(generator);
    }
    return png_bytes(image);
}

// Sets a file's modification time `days` into the past (what the retention policy reads as last use).
inline void age_file(const fs::path& file, int days) {
    fs::last_write_time(file, fs::file_time_type::clock::now() - std::chrono::hours(24 * days));
}

inline bool server_answers(httplib::Client& http) {
    const auto info = http.Get("/api/info");
    return info && info->status == 200;
}

} // namespace impasto::e2e
