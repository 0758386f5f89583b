// `impasto serve`: the local web studio (server/). Resolves the device, precision and folders,
// starts the server, prints where it listens, and stops cleanly on SIGINT/SIGTERM.
#include "cli_common.h"
#include "commands.h"
#include "impasto/error.h"
#include "impasto/style_model_file.h"
#include "server/studio_server.h"

#include <csignal>
#include <cstdio>
#include <fmt/format.h>
#include <memory>
#include <pthread.h>

namespace impasto::cli {
namespace {

namespace fs = std::filesystem;

struct ServeArgs {
    studio::StudioOptions options;
    std::string data;
    std::string gallery;
    std::string models;
    std::string device = "auto";
    std::string precision = "auto";
    int threads = 0;
    double max_upload_mb = 0;
    std::int64_t max_stored_mb = -1; // -1: the default of StudioOptions
    std::int64_t keep_mb = -1;
};

fs::path default_data_dir() {
    if (const char* data = std::getenv("XDG_DATA_HOME"); data != nullptr && *data != '\0') {
        return fs::path(data) / "impasto" / "studio";
    }
    const char* home = std::getenv("HOME");
    return fs::path(home != nullptr ? home : ".") / ".local" / "share" / "impasto" / "studio";
}

// The shared paintings and photos beside the source tree, when they are there.
fs::path default_gallery_dir() {
    std::error_code ec;
    const fs::path images = fs::path(IMPASTO_SOURCE_SHARED_DIR) / "images";
    return fs::is_directory(images, ec) ? fs::canonical(images, ec) : fs::path();
}

void run_serve(ServeArgs& args, const CliState& state) {
    studio::StudioOptions options = args.options;
    options.data_dir = args.data.empty() ? default_data_dir() : fs::path(args.data);
    options.gallery_dir = args.gallery.empty() ? default_gallery_dir() : fs::path(args.gallery);
    if (args.gallery == "none") {
        options.gallery_dir.clear();
    }
    options.models_dir = args.models.empty() ? default_models_dir() : fs::path(args.models);
    options.weights_dir = state.weights_dir;
    options.device = resolve_device(args.device);
    options.precision = resolve_precision(args.precision, options.device);
    options.threads = resolve_threads(args.threads);
    if (args.max_upload_mb > 0) {
        options.max_upload_bytes = static_cast<std::int64_t>(args.max_upload_mb * 1024 * 1024);
    }
    if (args.max_stored_mb >= 0) {
        options.max_stored_bytes = args.max_stored_mb * 1024 * 1024;
    }
    if (args.keep_mb >= 0) {
        options.keep_bytes = args.keep_mb * 1024 * 1024;
    }
    // Signals go to this thread only, through sigwait, so no handler runs inside a worker. Blocked
    // before any thread starts (set_num_threads starts the compute pool): a thread that does not
    // block them would take a SIGTERM arriving before sigwait and end the process with it.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    set_num_threads(options.threads);

    studio::StudioServer server(options);
    // What a client's error reply left out (a path, SQL, an internal error) is printed here.
    server.set_log_sink([](const std::string& line) {
        std::fprintf(stderr, "impasto studio: %s\n", line.c_str());
        std::fflush(stderr);
    });
    const int port = server.start();
    const std::string host = options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
    std::printf("impasto studio: listening on http://%s:%d/%s\n", host.c_str(), port,
                options.token.empty() ? "" : "?token=…");
    std::printf("impasto studio: data in %s; %d job(s) re-queued after an interrupted run; %d worker(s), %s, %s\n",
                options.data_dir.c_str(), server.recovered_jobs(), options.workers, options.device.str().c_str(),
                to_string(options.precision));
    std::fflush(stdout);
    int received = 0;
    sigwait(&signals, &received);
    std::printf("impasto studio: stopping (%s); running jobs resume at the next start\n",
                received == SIGINT ? "SIGINT" : "SIGTERM");
    std::fflush(stdout);
    server.stop();
}

} // namespace

void setup_serve(CLI::App& app, CliState& state) {
    auto args = std::make_shared<ServeArgs>();
    const studio::StudioOptions defaults;
    CLI::App* cmd =
        app.add_subcommand("serve", "The web studio: upload, stylise, watch, compare and rate in a browser");
    cmd->add_option("--host", args->options.host,
                    fmt::format("Address to bind; anything but loopback needs --token [default: {}]", defaults.host));
    cmd->add_option("--port", args->options.port, fmt::format("Port; 0 picks a free one [default: {}]", defaults.port));
    cmd->add_option("--token", args->options.token,
                    "Secret every request must carry: open the page once with ?token=T (it becomes a cookie), or "
                    "send Authorization: Bearer T; at least 8 characters");
    cmd->add_option("--data", args->data,
                    "Folder for the job database, uploads and results [default: ~/.local/share/impasto/studio]");
    cmd->add_option(
        "--gallery", args->gallery,
        "Folder with style/ paintings and content/ photos, or none [default: ../shared/images when present]");
    cmd->add_option("--models", args->models, "Folder of fast-style models and decoders/ [default: as `models list`]");
    cmd->add_option("--workers", args->options.workers,
                    fmt::format("Jobs run at once, sharing the loaded networks [default: {}]", defaults.workers));
    cmd->add_option("--max-streams", args->options.max_event_streams,
                    fmt::format("Open progress streams at most [default: {}]", defaults.max_event_streams));
    cmd->add_option("--max-upload-mb", args->max_upload_mb,
                    fmt::format("Largest upload in MiB [default: {}]", defaults.max_upload_bytes / (1024LL * 1024LL)));
    cmd->add_option(
        "--max-pixels", args->options.max_pixels,
        fmt::format("Largest upload in pixels, checked before decoding [default: {}]", defaults.max_pixels));
    cmd->add_option("--max-size", args->options.max_output_side,
                    fmt::format("Largest output long side a job may ask for [default: {}]", defaults.max_output_side));
    cmd->add_option("--preview-every", args->options.preview_every,
                    fmt::format("Iterations between live previews; 0 = none [default: {}]", defaults.preview_every));
    cmd->add_option("--weights", args->options.weight_set,
                    fmt::format("Weight set of the optimisation and the encoder [default: {}]", defaults.weight_set));
    cmd->add_option("--device", args->device, "auto, cpu, cuda or cuda:N [default: auto]");
    cmd->add_option("--precision", args->precision,
                    "Default precision of jobs: auto (bf16 where native), fp32, bf16 [default: auto]");
    cmd->add_option("--threads", args->threads, "Compute threads; 0 = every core [default: 0]");
    cmd->add_option("--request-timeout", args->options.request_timeout_seconds,
                    fmt::format("Seconds a client has to send one request, and to take one reply (progress "
                                "streams excepted) [default: {}]",
                                defaults.request_timeout_seconds));
    // Limits, quotas and retention: docs/studio_limits.md.
    constexpr std::int64_t kMiB = 1024LL * 1024LL;
    cmd->add_option(
        "--max-queued-jobs", args->options.max_queued_jobs,
        fmt::format("Jobs waiting or running at once, in all; more get 429 [default: {}]", defaults.max_queued_jobs));
    cmd->add_option("--max-queued-per-client", args->options.max_queued_per_client,
                    fmt::format("The same per client (remote address) [default: {}]", defaults.max_queued_per_client));
    cmd->add_option("--max-stored-mb", args->max_stored_mb,
                    fmt::format("Uploads, results and the database in MiB; beyond it uploads and jobs get 507 "
                                "[default: {}]",
                                defaults.max_stored_bytes / kMiB))
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 30));
    cmd->add_option("--max-uploads", args->options.max_uploads,
                    fmt::format("Uploads kept at once [default: {}]", defaults.max_uploads));
    cmd->add_option("--keep-days", args->options.keep_days,
                    "Delete results and uploads not used for this many days (at start and every few minutes); "
                    "0 = keep [default: 0]");
    cmd->add_option("--keep-mb", args->keep_mb,
                    "Above this many MiB, delete the least recently used results and uploads; 0 = off [default: 0]")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 30));
    cmd->add_option(
        "--max-attempts", args->options.max_attempts,
        fmt::format("Runs a job may crash the server before it is failed [default: {}]", defaults.max_attempts));
    cmd->callback([args, &state] { run_serve(*args, state); });
}

} // namespace impasto::cli
