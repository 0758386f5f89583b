#include "server/studio_server.h"

#include "server/event_hub.h"
#include "server/http_util.h"
#include "server/image_library.h"
#include "server/job_runner.h"
#include "server/model_cache.h"
#include "server/routes.h"
#include "server/sqlite_job_queue.h"
#include "server/sqlite_vote_store.h"
#include "server/studio_error.h"

#include <algorithm>
#include <fmt/format.h>
#include <httplib.h>
#include <thread>

namespace impasto::studio {

namespace fs = std::filesystem;

namespace {

// Streams each hold a thread; these are left for every other request.
constexpr int kSpareHttpThreads = 8;

std::string bearer_token(const httplib::Request& req) {
    const std::string header = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    if (header.rfind(prefix, 0) == 0) {
        return header.substr(prefix.size());
    }
    return req.get_param_value("token");
}

// Compares in time independent of where the strings differ.
bool same_secret(const std::string& a, const std::string& b) {
    unsigned char difference = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
        const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
        const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
        difference |= static_cast<unsigned char>(x ^ y);
    }
    return difference == 0;
}

std::string host_name(const std::string& host_header) {
    if (!host_header.empty() && host_header.front() == '[') {
        return host_header.substr(0, host_header.find(']') + 1);
    }
    return host_header.substr(0, host_header.rfind(':') == std::string::npos ? host_header.size()
                                                                             : host_header.rfind(':'));
}

// Without a token the only protection is the loopback bind; a page elsewhere could still reach
// it through DNS rebinding, which shows up as a foreign Host header.
bool host_allowed(const httplib::Request& req, const StudioOptions& options) {
    if (!options.token.empty() || !req.has_header("Host")) {
        return true;
    }
    const std::string name = host_name(req.get_header_value("Host"));
    return name == "localhost" || name == "[::1]" || name.rfind("127.", 0) == 0 || name == options.host;
}

// A state-changing request from a page of another origin is refused: CORS stays closed.
bool origin_allowed(const httplib::Request& req) {
    if (req.method == "GET" || req.method == "HEAD" || !req.has_header("Origin")) {
        return true;
    }
    const std::string origin = req.get_header_value("Origin");
    const std::string host = req.get_header_value("Host");
    return origin == "http://" + host || origin == "https://" + host; // https: behind a TLS proxy
}

} // namespace

struct StudioServer::State {
    explicit State(StudioOptions studio_options)
        : options(std::move(studio_options)),
          catalog(scan_catalog(options.models_dir, options.precision, options.max_output_side)),
          queue((fs::create_directories(options.data_dir), options.data_dir / "studio.sqlite3")),
          votes(options.data_dir / "studio.sqlite3"),
          images(ImageLibraryOptions{options.data_dir / "uploads", options.gallery_dir, options.max_upload_bytes,
                                     options.max_pixels}),
          models(options, catalog),
          runner(queue, hub, images, models, options, options.data_dir / "results"), context{options, catalog, queue,
                                                                                             votes,   hub,     images,
                                                                                             runner} {}

    StudioOptions options;
    StudioCatalog catalog;
    SqliteJobQueue queue;
    SqliteVoteStore votes;
    EventHub hub;
    ImageLibrary images;
    ModelCache models;
    JobRunner runner;
    StudioContext context;
    httplib::Server http;
    std::thread listener;
    int port = 0;
    int recovered = 0;
};

StudioServer::StudioServer(StudioOptions options) {
    options.validate();
    state_ = std::make_unique<State>(std::move(options));
    state_->recovered = state_->queue.recover_interrupted();
}

StudioServer::~StudioServer() {
    stop();
}

int StudioServer::start() {
    State& s = *state_;
    httplib::Server& http = s.http;
    const int threads = s.options.max_event_streams + kSpareHttpThreads;
    http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
    // Multipart framing adds a little to the file; the upload route checks the file itself.
    http.set_payload_max_length(static_cast<std::size_t>(s.options.max_upload_bytes) + 64U * 1024U);
    http.set_read_timeout(30, 0);
    http.set_write_timeout(30, 0);

    const StudioOptions& options = s.options;
    http.set_pre_routing_handler([&options](const httplib::Request& req, httplib::Response& res) {
        if (!options.token.empty() && !same_secret(bearer_token(req), options.token)) {
            send_error(res, 401, "unauthorized", "this server needs its token (Authorization: Bearer, or ?token=)");
            return httplib::Server::HandlerResponse::Handled;
        }
        if (!host_allowed(req, options)) {
            send_error(res, 403, "forbidden", "requests must address the server by a loopback name");
            return httplib::Server::HandlerResponse::Handled;
        }
        if (req.method == "OPTIONS" || !origin_allowed(req)) {
            send_error(res, 403, "forbidden", "cross-origin requests are not allowed");
            return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
    });
    http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) {
            return;
        }
        switch (res.status) {
        case 413:
            send_error(res, 413, "too_large", "the request body is over the upload limit");
            break;
        case 404:
            send_error(res, 404, "not_found", "no such resource");
            break;
        case 400:
            send_error(res, 400, "bad_request", "malformed request");
            break;
        default:
            send_error(res, res.status, "error", "HTTP " + std::to_string(res.status));
            break;
        }
    });
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        send_error(res, 500, "internal", "internal error");
    });

    add_info_routes(http, s.context);
    add_image_routes(http, s.context);
    add_job_routes(http, s.context);
    add_event_routes(http, s.context);
    add_vote_routes(http, s.context);
    add_static_routes(http);

    s.port = options.port == 0 ? http.bind_to_any_port(options.host)
                               : (http.bind_to_port(options.host, options.port) ? options.port : -1);
    if (s.port <= 0) {
        throw OutputError(fmt::format("cannot listen on {}:{} (in use, or not an address of this machine)",
                                      options.host, options.port));
    }
    s.runner.start();
    s.listener = std::thread([&http] { http.listen_after_bind(); });
    return s.port;
}

void StudioServer::stop() {
    if (!state_) {
        return;
    }
    state_->hub.shutdown();
    state_->http.stop();
    if (state_->listener.joinable()) {
        state_->listener.join();
    }
    state_->runner.stop();
}

int StudioServer::port() const {
    return state_->port;
}

int StudioServer::recovered_jobs() const {
    return state_->recovered;
}

const StudioOptions& StudioServer::options() const {
    return state_->options;
}

} // namespace impasto::studio
