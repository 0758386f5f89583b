#pragma once
// The real `impasto serve` as a child process on a free loopback port, with an HTTP client and
// the small steps the studio tests repeat (upload, submit, wait).
#include "e2e_process.h"
#include "e2e_util.h"
#include "impasto/image.h"
#include "unit/io_image_fixtures.h"

#include <atomic>
#include <chrono>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

namespace impasto::e2e {

using nlohmann::json;

class StudioProcess {
  public:
    explicit StudioProcess(fs::path data_dir) : data_dir_(std::move(data_dir)) {}
    ~StudioProcess() { kill_now(); }
    StudioProcess(const StudioProcess&) = delete;
    StudioProcess& operator=(const StudioProcess&) = delete;

    // Starts `impasto serve --port 0 --data DIR --gallery none EXTRA...` and waits for its
    // "listening on" line; fails the test when it does not come within `limit`.
    void start(const std::vector<std::string>& extra = {}, std::chrono::seconds limit = std::chrono::seconds(60)) {
        std::vector<std::string> args{"serve", "--port", "0", "--data", data_dir_.string()};
        if (std::find(extra.begin(), extra.end(), "--gallery") == extra.end()) {
            args.insert(args.end(), {"--gallery", "none"});
        }
        if (std::find(extra.begin(), extra.end(), "--threads") == extra.end()) {
            args.insert(args.end(), {"--threads", "2"});
        }
        args.insert(args.end(), extra.begin(), extra.end());
        // Unique per object too: two objects on one data folder must not read each other's
        // "listening" line (the new log is truncated only once the child runs).
        log_ = data_dir_.parent_path() / (data_dir_.filename().string() + "-serve-" + std::to_string(instance_) + "-" +
                                          std::to_string(starts_++) + ".log");
        pid_ = spawn_cli(args, log_);
        const std::regex listening(R"(listening on http://[^:]+:(\d+)/)");
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            std::smatch match;
            const std::string text = log_text();
            if (std::regex_search(text, match, listening)) {
                port_ = std::stoi(match[1]);
                return;
            }
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                FAIL() << "impasto serve exited before listening:\n" << text;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        FAIL() << "impasto serve did not start listening:\n" << log_text();
    }

    // SIGTERM and wait: the clean stop.
    int stop() {
        if (pid_ <= 0) {
            return -1;
        }
        ::kill(pid_, SIGTERM);
        const int code = wait_for(pid_, std::chrono::seconds(60));
        pid_ = -1;
        return code;
    }
    // SIGKILL: no chance to clean up.
    void kill_now() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
            pid_ = -1;
        }
    }

    httplib::Client client() const {
        httplib::Client http("127.0.0.1", port_);
        http.set_read_timeout(60, 0);
        http.set_connection_timeout(5, 0);
        return http;
    }
    int port() const { return port_; }
    const fs::path& data_dir() const { return data_dir_; }
    std::string log_text() const { return read_text(log_); }

  private:
    fs::path data_dir_;
    fs::path log_;
    pid_t pid_ = -1;
    int port_ = 0;
    int starts_ = 0;
    int instance_ = next_instance();

    static int next_instance() {
        static std::atomic<int> count{0};
        return count++;
    }
};

inline std::string png_bytes(const Image& image) {
    const std::vector<std::uint8_t> bytes = encode_png(image);
    return {bytes.begin(), bytes.end()};
}

inline httplib::Result upload(httplib::Client& http, const std::string& bytes, const std::string& name = "photo.png",
                              const std::string& type = "image/png") {
    httplib::MultipartFormDataItems items{{"file", bytes, name, type}};
    return http.Post("/api/uploads", items);
}

inline json body_json(const httplib::Result& result) {
    return result ? json::parse(result->body, nullptr, false) : json();
}

// Uploads a synthetic photo and returns its id (images of different sizes get different ids).
inline std::string upload_id(httplib::Client& http, int width, int height) {
    const auto result = upload(http, png_bytes(testing::gradient_image(width, height)));
    EXPECT_TRUE(result && result->status == 201) << (result ? result->body : "no response");
    return body_json(result).value("id", "");
}

inline json submit(httplib::Client& http, const json& job) {
    const auto result = http.Post("/api/jobs", job.dump(), "application/json");
    EXPECT_TRUE(result && result->status == 202) << (result ? result->body : "no response");
    return body_json(result);
}

// Polls until the job is in one of `states`; returns the job (or the last one seen).
inline json wait_for_job(httplib::Client& http, const std::string& id, const std::set<std::string>& states,
                         std::chrono::seconds limit = std::chrono::seconds(120)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    json job;
    while (std::chrono::steady_clock::now() < deadline) {
        const auto result = http.Get("/api/jobs/" + id);
        job = body_json(result);
        if (job.is_object() && states.count(job.value("state", "")) > 0) {
            return job;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "job " << id << " did not reach the expected state; last: " << job.dump();
    return job;
}

// The first committed fast-style model, from GET /api/defaults.
inline std::string first_fast_model(httplib::Client& http) {
    const json defaults = body_json(http.Get("/api/defaults"));
    return defaults.at("fast").at("defaults").value("model", "");
}

} // namespace impasto::e2e
