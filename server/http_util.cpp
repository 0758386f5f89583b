#include "server/http_util.h"

#include "io/bounded_json.h"
#include "server/public_error.h"
#include "server/storage_error.h"
#include "server/studio_error.h"

namespace impasto::studio {

using nlohmann::json;

namespace {

// One request at a time runs on an HTTP thread, and the server's logger runs on the same thread
// right after the reply, so a thread-local slot carries the detail from the handler to the log.
thread_local std::string error_detail;

} // namespace

std::string take_error_detail() {
    std::string detail;
    detail.swap(error_detail);
    return detail;
}

void note_error_detail(const std::string& detail) {
    error_detail = detail;
}

void send_json(httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_header("Cache-Control", "no-store");
    std::string text = body.dump();
    if (text.find("\"error\"") != std::string::npos) {
        json scrubbed = body;
        scrub_error_objects(scrubbed);
        text = scrubbed.dump();
    }
    res.set_content(text, "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& code, const std::string& message) {
    const std::string shown = public_error_message(message);
    if (shown != message) {
        note_error_detail(message);
    }
    send_json(res, status, json{{"error", {{"code", code}, {"message", shown}}}});
}

json parse_json_body(const httplib::Request& req) {
    // Every JSON body the API takes is a few kilobytes; its size is refused as such (413).
    constexpr JsonLimits kBodyLimits{std::size_t{64} * 1024U, 32};
    if (req.body.size() > kBodyLimits.max_bytes) {
        throw StudioError(413, "too_large",
                          "the request body is " + std::to_string(req.body.size()) +
                              " bytes; JSON bodies are limited to " + std::to_string(kBodyLimits.max_bytes));
    }
    try {
        return parse_bounded_json(req.body, kBodyLimits, "the request body");
    } catch (const InputError& e) {
        throw StudioError(400, "bad_request", e.what());
    }
}

int query_int(const httplib::Request& req, const std::string& name, int fallback, int low, int high) {
    if (!req.has_param(name)) {
        return fallback;
    }
    const std::string text = req.get_param_value(name);
    std::size_t used = 0;
    int value = 0;
    try {
        value = std::stoi(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != text.size() || value < low || value > high) {
        throw StudioError(400, "bad_request",
                          name + " = '" + text + "' is out of range; allowed: " + std::to_string(low) + ".." +
                              std::to_string(high));
    }
    return value;
}

httplib::Server::Handler guarded(httplib::Server::Handler handler) {
    return [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
        try {
            handler(req, res);
        } catch (const StudioError& e) {
            send_error(res, e.status(), e.code(), e.what());
        } catch (const StorageError& e) {
            // A full disk or a busy database is not the request's fault: 507 or 503, and the
            // server carries on.
            note_error_detail(e.what());
            send_error(res, e.http_status(), e.http_code(),
                       e.kind() == StorageError::Kind::Full ? "the studio's storage is full; delete uploads or results"
                                                            : "the studio's storage is busy or failing; try again");
        } catch (const ConfigError& e) {
            send_error(res, 400, e.code(), e.what());
        } catch (const InputError& e) {
            send_error(res, 400, e.code(), e.what());
        } catch (const Error& e) {
            send_error(res, 500, e.code(), e.what());
        } catch (const std::exception& e) {
            note_error_detail(e.what());
            send_error(res, 500, "internal", "internal error");
        }
    };
}

} // namespace impasto::studio
