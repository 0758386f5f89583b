#pragma once
// httplib::Server (cpp-httplib 0.11) whose connections cannot hold a thread or memory for as long
// as the client likes. The library's own timeouts are per read and per write, so a client that
// sends one header byte every few seconds never trips them and keeps one of the few HTTP threads
// forever; it reads headers without a limit on their number; and it answers a Range header with
// thousands of ranges by building a multipart body many times the file's size.
//
// This server runs each accepted connection itself (the library's process_and_close_socket is a
// virtual hook; process_request, which parses and routes one request, is ours to call) over a
// stream that enforces:
//   - a deadline on receiving each request: line, headers and body, counted from its first byte;
//   - a deadline on sending each response, except one a handler marks as long (event streams);
//   - at most `max_head_bytes` for the request line and headers together;
//   - at most one byte range: a request for several gets the whole file (RFC 9110 lets a server
//     ignore Range), so a reply is never larger than what was asked for.
// Keep-alive and its request count still follow set_keep_alive_timeout / set_keep_alive_max_count.
#include <chrono>
#include <cstddef>
#include <httplib.h>

namespace impasto::studio {

struct ConnectionLimits {
    std::chrono::milliseconds request_deadline{60'000};  // receive one request
    std::chrono::milliseconds response_deadline{60'000}; // send one response (event streams excepted)
    std::chrono::milliseconds idle{30'000};              // no byte in or out for this long
    std::size_t max_head_bytes = 64U * 1024U;            // request line and headers together
};

class BoundedHttpServer : public httplib::Server {
  public:
    explicit BoundedHttpServer(ConnectionLimits limits) : limits_(limits) {}

    // From a route handler: the response it is making runs as long as it needs (server-sent
    // events end with their job). The idle limit still applies to each write.
    static void allow_long_response();

  private:
    bool process_and_close_socket(socket_t sock) override;

    ConnectionLimits limits_;
};

} // namespace impasto::studio
