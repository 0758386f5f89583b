#include "server/studio_server.h"

#include "server/bounded_http_server.h"
#include "server/data_dir_lock.h"
#include "server/event_hub.h"
#include "server/http_util.h"
#include "server/image_library.h"
#include "server/job_runner.h"
#include "server/model_cache.h"
#include "server/routes.h"
#include "server/sqlite_job_queue.h"
#include "server/sqlite_vote_store.h"
#include "server/storage_keeper.h"
#include "server/studio_access.h"
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

// Sent with every response, errors included. The page loads its script and stylesheet from
// /assets and nothing inline; images come from the API (and the page's empty data: icon).
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

httplib::Headers security_headers() {
    return {{"Content-Security-Policy", kContentSecurityPolicy},
            {"X-Content-Type-Options", "nosniff"},
            {"X-Frame-Options", "DENY"},
            {"Referrer-Policy", "no-referrer"},
            {"Cross-Origin-Resource-Policy", "same-origin"},
            {"Cross-Origin-Opener-Policy", "same-origin"}};
}

// The library's paths and the server's own folders are absolute in every message, so that the
// reply scrubber (public_error.h) recognises them.
StudioOptions with_absolute_folders(StudioOptions options) {
    for (fs::path* folder : {&options.data_dir, &options.gallery_dir, &options.models_dir, &options.weights_dir}) {
        if (!folder->empty()) {
            *folder = fs::absolute(*folder);
        }
    }
    return options;
}

} // namespace

struct StudioServer::State {
    explicit State(StudioOptions studio_options)
        : options(with_absolute_folders(std::move(studio_options))), data_lock(options.data_dir),
          catalog(scan_catalog(options.models_dir, options.precision, options.max_output_side)),
          queue((fs::create_directories(options.data_dir), options.data_dir / "studio.sqlite3")),
          votes(options.data_dir / "studio.sqlite3"),
          images(ImageLibraryOptions{options.data_dir / "uploads", options.gallery_dir, options.max_upload_bytes,
                                     options.max_pixels}),
          models(options, catalog), storage(options, queue, images),
          runner(queue, hub, images, models, options, storage), context{options, catalog, queue,  votes,
                                                                        hub,     images,  runner, storage},
          http(ConnectionLimits{std::chrono::seconds(options.request_timeout_seconds),
                                std::chrono::seconds(options.request_timeout_seconds)}) {}

    StudioOptions options;
    DataDirLock data_lock; // before anything opens the folder: one server per data folder
    StudioCatalog catalog;
    SqliteJobQueue queue;
    SqliteVoteStore votes;
    EventHub hub;
    ImageLibrary images;
    ModelCache models;
    StorageKeeper storage;
    JobRunner runner;
    StudioContext context;
    BoundedHttpServer http;
    std::unique_ptr<StudioAccess> access; // made once the port is known: it names the cookie
    std::function<void(const std::string&)> log;
    std::thread listener;
    int port = 0;
    int recovered = 0;
};

StudioServer::StudioServer(StudioOptions options) {
    options.validate();
    state_ = std::make_unique<State>(std::move(options));
    state_->recovered = state_->runner.recover();
}

StudioServer::~StudioServer() {
    stop();
}

void StudioServer::set_log_sink(std::function<void(const std::string&)> sink) {
    state_->log = std::move(sink);
}

int StudioServer::start() {
    State& s = *state_;
    BoundedHttpServer& http = s.http;
    const int threads = s.options.max_event_streams + kSpareHttpThreads;
    http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
    // Multipart framing adds a little to the file; the upload route checks the file itself.
    http.set_payload_max_length(static_cast<std::size_t>(s.options.max_upload_bytes) + 64U * 1024U);
    http.set_default_headers(security_headers());

    http.set_pre_routing_handler([&s](const httplib::Request& req, httplib::Response& res) {
        take_error_detail(); // a new request: nothing of the last one's is logged with it
        const AccessDecision decision = s.access->check(req);
        switch (decision.kind) {
        case AccessDecision::Kind::Allow:
            return httplib::Server::HandlerResponse::Unhandled;
        case AccessDecision::Kind::SetCookieAndRedirect:
            res.status = decision.status;
            res.set_header("Location", decision.location);
            res.set_header("Set-Cookie", decision.set_cookie);
            res.set_header("Cache-Control", "no-store");
            return httplib::Server::HandlerResponse::Handled;
        case AccessDecision::Kind::Refuse:
            break;
        }
        send_error(res, decision.status, decision.code, decision.message);
        return httplib::Server::HandlerResponse::Handled;
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
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
        try {
            if (error) {
                std::rethrow_exception(error);
            }
        } catch (const std::exception& e) {
            note_error_detail(e.what());
        } catch (...) {
            note_error_detail("an exception that is no std::exception");
        }
        send_error(res, 500, "internal", "internal error");
    });
    // What a client was not told (a path, SQL, an internal error) goes to the server's log.
    http.set_logger([&s](const httplib::Request& req, const httplib::Response& res) {
        const std::string detail = take_error_detail();
        if (!detail.empty() && s.log) {
            s.log(fmt::format("{} {} answered {}: {}", req.method, req.path, res.status, detail));
        }
    });

    add_info_routes(http, s.context);
    add_image_routes(http, s.context);
    add_job_routes(http, s.context);
    add_event_routes(http, s.context);
    add_vote_routes(http, s.context);
    add_static_routes(http);

    const StudioOptions& options = s.options;
    s.port = options.port == 0 ? http.bind_to_any_port(options.host)
                               : (http.bind_to_port(options.host, options.port) ? options.port : -1);
    if (s.port <= 0) {
        throw OutputError(fmt::format("cannot listen on {}:{} (in use, or not an address of this machine)",
                                      options.host, options.port));
    }
    s.access = std::make_unique<StudioAccess>(options.token, s.port);
    if (s.log) {
        for (const std::string& why : s.catalog.examples.skipped) {
            s.log("model example left out: " + why);
        }
    }
    s.storage.start(); // retention runs once before the first request, then every few minutes
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
    state_->storage.stop();
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
