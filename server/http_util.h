#pragma once
// Small pieces every route uses: JSON replies, JSON errors, body and query parsing, and the
// handler guard that turns exceptions into JSON errors.
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <string>

namespace impasto::studio {

// Both pass error messages through public_error_message (public_error.h): a reply names no
// server path and no SQL. send_json does so for every {"error": {...}} inside `body` too.
void send_json(httplib::Response& res, int status, const nlohmann::json& body);
void send_error(httplib::Response& res, int status, const std::string& code, const std::string& message);

// Throws StudioError 400 when the body is not JSON.
nlohmann::json parse_json_body(const httplib::Request& req);
// Query parameter as an integer in [low, high]; `fallback` when absent. Throws StudioError 400.
int query_int(const httplib::Request& req, const std::string& name, int fallback, int low, int high);

// Runs `handler`, answering StudioError with its status, the library's errors with 400 (bad
// input or settings) or 500, and anything else with 500 "internal" and no detail.
httplib::Server::Handler guarded(httplib::Server::Handler handler);

// The full text of an error this thread answered with less (a path or SQL removed, or a generic
// 500), taken once, so that the server can log what the client was not told. Empty when none.
std::string take_error_detail();
// Keeps `detail` for take_error_detail when the reply says less.
void note_error_detail(const std::string& detail);

} // namespace impasto::studio
