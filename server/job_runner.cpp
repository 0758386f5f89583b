#include "server/job_runner.h"

#include "impasto/atomic_file.h"
#include "impasto/error.h"
#include "server/job_execution.h"
#include "server/job_view.h"

#include <chrono>
#include <nlohmann/json.hpp>

namespace impasto::studio {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
// Progress reaches watchers at every step; the database only needs it now and then.
constexpr auto kProgressStoreInterval = std::chrono::milliseconds(500);
// A queued job from another process (a shared queue) is noticed within this time.
constexpr auto kPollInterval = std::chrono::seconds(2);
} // namespace

JobRunner::JobRunner(JobQueue& queue, EventHub& hub, const ImageLibrary& images, ModelCache& models,
                     const StudioOptions& options, fs::path results_dir)
    : queue_(queue), hub_(hub), images_(images), models_(models), options_(options),
      results_dir_(std::move(results_dir)) {
    fs::create_directories(results_dir_);
}

JobRunner::~JobRunner() {
    stop();
}

void JobRunner::start() {
    const std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = false;
    for (int i = 0; i < options_.workers; ++i) {
        workers_.emplace_back([this] { worker_loop(); });
    }
}

void JobRunner::stop() {
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& worker : workers_) {
        if (worker.joinable()) {
            worker.join();
        }
    }
    workers_.clear();
}

void JobRunner::wake() {
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        ++wake_count_;
    }
    wake_.notify_one();
}

void JobRunner::cancel(const std::string& job_id) {
    const std::lock_guard<std::mutex> lock(mutex_);
    cancelled_.insert(job_id);
}

fs::path JobRunner::image_file(const std::string& job_id) const {
    return results_dir_ / (job_id + ".png");
}

fs::path JobRunner::sidecar_file(const std::string& job_id) const {
    return results_dir_ / (job_id + ".json");
}

bool JobRunner::should_stop(const std::string& job_id) {
    const std::lock_guard<std::mutex> lock(mutex_);
    return stopping_ || cancelled_.count(job_id) > 0;
}

void JobRunner::publish_state(const std::string& job_id) {
    const auto job = queue_.get(job_id);
    if (job) {
        hub_.publish(job_id, "state", job_json(*job).dump(), is_terminal(job->state));
    }
}

void JobRunner::worker_loop() {
    std::uint64_t seen_wakes = 0;
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(mutex_);
            if (stopping_) {
                return;
            }
        }
        std::optional<JobRecord> job;
        try {
            job = queue_.claim();
        } catch (const std::exception&) {
            job.reset(); // the database is busy or failing: try again after the poll interval
        }
        if (job) {
            run(*job);
            continue;
        }
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait_for(lock, kPollInterval, [&] { return stopping_ || wake_count_ != seen_wakes; });
        seen_wakes = wake_count_;
    }
}

void JobRunner::run(const JobRecord& job) {
    publish_state(job.id);
    auto last_store = std::chrono::steady_clock::now() - kProgressStoreInterval;
    const auto on_progress = [&](const json& progress, const Image* preview) {
        json event = progress;
        if (preview != nullptr) {
            const int side = std::max(preview->width, preview->height);
            const Image small =
                side > options_.preview_side ? resize_long_side(*preview, options_.preview_side) : *preview;
            const std::uint64_t seq = hub_.set_preview(job.id, encode_png(small));
            event["preview_seq"] = seq;
            hub_.publish(
                job.id, "preview",
                json{{"seq", seq}, {"url", "/api/jobs/" + job.id + "/preview?seq=" + std::to_string(seq)}}.dump());
        }
        hub_.publish(job.id, "progress", event.dump());
        const auto now = std::chrono::steady_clock::now();
        if (now - last_store >= kProgressStoreInterval || preview != nullptr) {
            last_store = now;
            try {
                queue_.set_progress(job.id, event.dump());
                if (queue_.get(job.id).value_or(JobRecord{}).cancel_requested) {
                    cancel(job.id); // requested through another server process sharing the queue
                }
            } catch (const std::exception&) {
                // Progress is advisory; a busy database must not fail the job.
            }
        }
        return !should_stop(job.id);
    };

    try {
        const JobRequest request = job_request_from_json(json::parse(job.request_json));
        JobOutput output = execute_job(job.id, request, images_, models_, options_, on_progress);
        bool stopping = false;
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            stopping = stopping_;
        }
        if (output.cancelled || should_stop(job.id)) {
            if (!stopping) {
                queue_.mark_cancelled(job.id);
            }
        } else {
            save_image(output.image, image_file(job.id));
            write_file_atomic(sidecar_file(job.id), output.sidecar.dump(2) + "\n");
            queue_.finish(
                job.id,
                json{{"width", output.image.width}, {"height", output.image.height}, {"seconds", output.seconds}}
                    .dump());
        }
    } catch (const Error& e) {
        queue_.fail(job.id, e.code(), e.what());
    } catch (const std::exception& e) {
        queue_.fail(job.id, "internal", e.what());
    }
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        cancelled_.erase(job.id);
    }
    publish_state(job.id);
}

} // namespace impasto::studio
