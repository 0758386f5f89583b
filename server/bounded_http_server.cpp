#include "server/bounded_http_server.h"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace impasto::studio {

namespace {

using Clock = std::chrono::steady_clock;

// How often a wait looks whether the server is stopping.
constexpr auto kStopCheck = std::chrono::milliseconds(200);

void address_text(const sockaddr_storage& address, std::string& ip, int& port) {
    std::array<char, INET6_ADDRSTRLEN> text{};
    if (address.ss_family == AF_INET) {
        const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
        ::inet_ntop(AF_INET, &v4.sin_addr, text.data(), text.size());
        port = ntohs(v4.sin_port);
    } else if (address.ss_family == AF_INET6) {
        const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
        ::inet_ntop(AF_INET6, &v6.sin6_addr, text.data(), text.size());
        port = ntohs(v6.sin6_port);
    }
    ip = text.data();
}

// The request head ends at its first empty line. cpp-httplib 0.11 (as Debian builds it, without
// CPPHTTPLIB_ALLOW_LF_AS_LINE_TERMINATOR) splits lines at '\n' and ends the head at a line that is
// exactly "\r\n", so the head ends at the first "\n\r\n" and this counts exactly what it parses.
class HeadScanner {
  public:
    void reset() {
        state_ = 0;
        bytes_ = 0;
        done_ = false;
    }
    bool done() const { return done_; }
    std::size_t bytes() const { return bytes_; }
    // Counts `data` until the head ends.
    void scan(const char* data, std::size_t size) {
        for (std::size_t i = 0; i < size && !done_; ++i) {
            const char c = data[i];
            ++bytes_;
            if (state_ == 2 && c == '\n') {
                done_ = true;
            } else if (c == '\n') {
                state_ = 1;
            } else {
                state_ = state_ == 1 && c == '\r' ? 2 : 0;
            }
        }
    }

  private:
    int state_ = 0; // 1: after '\n'; 2: after "\n\r"
    std::size_t bytes_ = 0;
    bool done_ = false;
};

class ConnectionStream final : public httplib::Stream {
  public:
    ConnectionStream(socket_t sock, const ConnectionLimits& limits, const std::atomic<socket_t>& listening)
        : sock_(sock), limits_(limits), listening_(listening) {}

    // Waits up to `idle` for the next request's first byte.
    bool wait_for_request(std::chrono::milliseconds idle) { return begin_ < end_ || wait(POLLIN, Clock::now() + idle); }

    void begin_request() {
        head_.reset();
        request_deadline_ = Clock::now() + limits_.request_deadline;
        responding_ = false;
        long_response_ = false;
    }

    void allow_long_response() { long_response_ = true; }

    // A read ran out of time or over the head limit: the connection is not to be trusted with
    // another request (the rest of a trickle would be read as one).
    bool cut_short() const { return cut_short_; }

    bool is_readable() const override {
        return begin_ < end_ || wait(POLLIN, std::min(Clock::now() + limits_.idle, request_deadline_));
    }

    bool is_writable() const override { return wait(POLLOUT, write_until()); }

    ssize_t read(char* ptr, std::size_t size) override {
        while (begin_ == end_) {
            if (!wait(POLLIN, std::min(Clock::now() + limits_.idle, request_deadline_))) {
                cut_short_ = true;
                return -1;
            }
            const ssize_t received = ::recv(sock_, buffer_.data(), buffer_.size(), MSG_DONTWAIT);
            if (received < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) {
                continue;
            }
            if (received <= 0) {
                return received;
            }
            begin_ = 0;
            end_ = static_cast<std::size_t>(received);
        }
        const std::size_t count = std::min(size, end_ - begin_);
        if (!head_.done()) {
            head_.scan(buffer_.data() + begin_, count);
            if (head_.bytes() > limits_.max_head_bytes) {
                cut_short_ = true;
                return -1;
            }
        }
        std::memcpy(ptr, buffer_.data() + begin_, count);
        begin_ += count;
        return static_cast<ssize_t>(count);
    }

    ssize_t write(const char* ptr, std::size_t size) override {
        if (!responding_) {
            responding_ = true;
            response_deadline_ = Clock::now() + limits_.response_deadline;
        }
        // Never blocking in send: a blocked send would outlast the deadline by the socket's own timeout.
        while (wait(POLLOUT, write_until())) {
            const ssize_t sent = ::send(sock_, ptr, size, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (sent >= 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) {
                return sent;
            }
        }
        return -1;
    }

    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        sockaddr_storage address{};
        socklen_t length = sizeof(address);
        if (::getpeername(sock_, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
            address_text(address, ip, port);
        }
    }

    void get_local_ip_and_port(std::string& ip, int& port) const override {
        sockaddr_storage address{};
        socklen_t length = sizeof(address);
        if (::getsockname(sock_, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
            address_text(address, ip, port);
        }
    }

    socket_t socket() const override { return sock_; }

  private:
    Clock::time_point write_until() const {
        const Clock::time_point idle = Clock::now() + limits_.idle;
        return long_response_ || !responding_ ? idle : std::min(idle, response_deadline_);
    }

    // Polls in short slices until `until`, giving up early when the server stops.
    bool wait(short events, Clock::time_point until) const {
        while (listening_ != INVALID_SOCKET) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
            if (left.count() <= 0) {
                return false;
            }
            pollfd entry{sock_, events, 0};
            const int ready = ::poll(&entry, 1, static_cast<int>(std::min(left, kStopCheck).count()));
            if (ready > 0) {
                return (entry.revents & POLLNVAL) == 0;
            }
            if (ready < 0 && errno != EINTR) {
                return false;
            }
        }
        return false;
    }

    socket_t sock_;
    const ConnectionLimits& limits_;
    const std::atomic<socket_t>& listening_;
    std::array<char, std::size_t{16} * 1024> buffer_{};
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    HeadScanner head_;
    Clock::time_point request_deadline_ = Clock::now();
    Clock::time_point response_deadline_ = Clock::now();
    bool responding_ = false;
    bool long_response_ = false;
    bool cut_short_ = false;
};

// The connection this thread is serving, for allow_long_response.
thread_local ConnectionStream* current_connection = nullptr;

class CurrentConnection {
  public:
    explicit CurrentConnection(ConnectionStream* stream) { current_connection = stream; }
    ~CurrentConnection() { current_connection = nullptr; }
    CurrentConnection(const CurrentConnection&) = delete;
    CurrentConnection& operator=(const CurrentConnection&) = delete;
};

void keep_at_most_one_range(httplib::Request& req) {
    if (req.ranges.size() > 1) {
        req.ranges.clear();
    }
}

} // namespace

void BoundedHttpServer::allow_long_response() {
    if (current_connection != nullptr) {
        current_connection->allow_long_response();
    }
}

bool BoundedHttpServer::process_and_close_socket(socket_t sock) {
    bool ok = false;
    {
        ConnectionStream stream(sock, limits_, svr_sock_);
        const CurrentConnection current(&stream);
        const std::chrono::milliseconds keep_alive = std::chrono::seconds(keep_alive_timeout_sec_);
        for (std::size_t left = std::max<std::size_t>(keep_alive_max_count_, 1); left > 0; --left) {
            if (svr_sock_ == INVALID_SOCKET || !stream.wait_for_request(keep_alive)) {
                break;
            }
            stream.begin_request();
            bool closed = false;
            try {
                ok = process_request(stream, left == 1, closed, keep_at_most_one_range);
            } catch (...) {
                // Thrown past the handlers (a content provider, an allocation): the thread pool
                // does not catch, and an escaping exception would end the process.
                ok = false;
            }
            if (!ok || closed || stream.cut_short()) {
                break;
            }
        }
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return ok;
}

} // namespace impasto::studio
