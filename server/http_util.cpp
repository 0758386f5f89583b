#include "server/http_util.h"

#include "server/studio_error.h"

namespace impasto::studio {

using nlohmann::json;

void send_json(httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_header("Cache-Control", "no-store");
    res.set_content(body.dump(), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& code, const std::string& message) {
    send_json(res, status, json{{"error", {{"code", code}, {"message", message}}}});
}

json parse_json_body(const httplib::Request& req) {
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded()) {
        throw StudioError(400, "bad_request", "the body is not valid JSON");
    }
    return body;
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
        } catch (const ConfigError& e) {
            send_error(res, 400, e.code(), e.what());
        } catch (const InputError& e) {
            send_error(res, 400, e.code(), e.what());
        } catch (const Error& e) {
            send_error(res, 500, e.code(), e.what());
        } catch (const std::exception& e) {
            send_error(res, 500, "internal", e.what());
        }
    };
}

} // namespace impasto::studio
