#include "server/job_view.h"

#include "server/stored_json.h"

#include <array>
#include <chrono>
#include <ctime>
#include <random>

namespace impasto::studio {

using nlohmann::json;

namespace {

json parse_or_null(const std::string& text) {
    return parse_stored_json(text);
}

// The field when it has the expected kind; a row edited behind the server's back may not.
json field(const json& object, const char* key, const json& fallback) {
    if (!object.is_object()) {
        return fallback;
    }
    const auto found = object.find(key);
    return found != object.end() && found->type() == fallback.type() ? *found : fallback;
}

} // namespace

json iso_time(std::int64_t unix_ms) {
    if (unix_ms <= 0) {
        return nullptr;
    }
    const auto seconds = static_cast<std::time_t>(unix_ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    std::array<char, 32> text{};
    std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &utc);
    return std::string(text.data());
}

std::int64_t unix_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string new_job_id() {
    static thread_local std::mt19937_64 generator{std::random_device{}() ^
                                                  (static_cast<std::uint64_t>(std::random_device{}()) << 32)};
    static const char* const kHex = "0123456789abcdef";
    std::string id = "j_";
    for (int i = 0; i < 24; ++i) {
        id += kHex[generator() & 15U];
    }
    return id;
}

json job_json(const JobRecord& record) {
    const json request = parse_or_null(record.request_json);
    json out{{"id", record.id},
             {"state", to_string(record.state)},
             {"method", field(request, "method", "")},
             {"content", record.content_id},
             {"styles", field(request, "styles", json::array())},
             {"params", field(request, "params", json::object())},
             {"parent", request.is_object() && request.contains("parent") && request["parent"].is_string()
                            ? request["parent"]
                            : json(nullptr)},
             {"settings_key", record.settings_key},
             {"settings_label", field(request, "label", "")},
             {"created_at", iso_time(record.created_ms)},
             {"started_at", iso_time(record.started_ms)},
             {"finished_at", iso_time(record.finished_ms)},
             {"attempts", record.attempts},
             {"cancel_requested", record.cancel_requested},
             {"progress", parse_or_null(record.progress_json)},
             {"error", nullptr},
             {"result", nullptr}};
    if (record.state == JobState::Failed) {
        out["error"] = {{"code", record.error_code}, {"message", record.error_message}};
    }
    if (record.state == JobState::Done) {
        json result = parse_or_null(record.result_json);
        if (!result.is_object()) {
            result = json::object();
        }
        result["image_url"] = "/api/jobs/" + record.id + "/image";
        result["sidecar_url"] = "/api/jobs/" + record.id + "/sidecar";
        out["result"] = result;
    }
    return out;
}

} // namespace impasto::studio
