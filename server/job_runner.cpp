#include "server/job_runner.h"

#include "impasto/error.h"
#include "server/job_execution.h"
#include "server/job_view.h"
#include "server/stored_json.h"

#include <chrono>
#include <nlohmann/json.hpp>

namespace impasto::studio {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
// Progress reaches watchers at every step; the database only needs it now and then.
constexpr auto kProgressStoreInterval = std::chrono::milliseconds(500);
// A queued job from another process (a shared queue) is noticed within this time; an outcome
// the database refused is tried again as often.
constexpr auto kPollInterval = std::chrono::seconds(2);
// A running job's recovery reads at most this many rows: more workers than that never ran.
constexpr int kMaxRunningJobs = 100000;
} // namespace

JobRunner::JobRunner(JobQueue& queue, EventHub& hub, const ImageLibrary& images, ModelCache& models,
                     const StudioOptions& options, StorageKeeper& storage)
    : queue_(queue), hub_(hub), images_(images), models_(models), options_(options), storage_(storage) {}

JobRunner::~JobRunner() {
    stop();
}

int JobRunner::recover() {
    JobFilter running;
    running.state = JobState::Running;
    running.limit = kMaxRunningJobs;
    for (const JobRecord& job : queue_.list(running)) {
        // A crash after the result files were written and before the queue recorded them: the
        // result is there and complete, so the job is done; running it again would waste it.
        if (const auto result = storage_.results().complete_result(job.id)) {
            queue_.finish(job.id, result->dump());
        }
    }
    return queue_.recover_interrupted(options_.max_attempts);
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
    return storage_.results().image(job_id);
}

fs::path JobRunner::sidecar_file(const std::string& job_id) const {
    return storage_.results().sidecar(job_id);
}

bool JobRunner::should_stop(const std::string& job_id) {
    const std::lock_guard<std::mutex> lock(mutex_);
    return stopping_ || cancelled_.count(job_id) > 0;
}

bool JobRunner::stopping() {
    const std::lock_guard<std::mutex> lock(mutex_);
    return stopping_;
}

void JobRunner::publish_state(const std::string& job_id) noexcept {
    try {
        const auto job = queue_.get(job_id);
        if (job) {
            hub_.publish(job_id, "state", job_json(*job).dump(), is_terminal(job->state));
        }
    } catch (const std::exception&) {
        // Watchers miss one state event; they read the state again when they reconnect.
    }
}

bool JobRunner::record(const JobOutcome& outcome) noexcept {
    try {
        switch (outcome.kind) {
        case JobOutcome::Kind::Finish:
            queue_.finish(outcome.job_id, outcome.result_json);
            break;
        case JobOutcome::Kind::Fail:
            queue_.fail(outcome.job_id, outcome.error_code, outcome.error_message);
            break;
        case JobOutcome::Kind::Cancel:
            queue_.mark_cancelled(outcome.job_id);
            break;
        case JobOutcome::Kind::Release:
            if (!queue_.release(outcome.job_id)) {
                queue_.mark_cancelled(outcome.job_id); // its cancel was asked for meanwhile
            }
            break;
        }
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

void JobRunner::worker_loop() {
    std::uint64_t seen_wakes = 0;
    std::vector<JobOutcome> unrecorded;
    for (;;) {
        if (stopping()) {
            // Left running in the queue: the next start recovers them from their files or runs them.
            return;
        }
        // Outcomes the database refused come first: until they are recorded the jobs read as running.
        for (auto it = unrecorded.begin(); it != unrecorded.end();) {
            if (record(*it)) {
                publish_state(it->job_id);
                it = unrecorded.erase(it);
            } else {
                ++it;
            }
        }
        std::optional<JobRecord> job;
        if (unrecorded.empty()) {
            try {
                job = queue_.claim();
            } catch (const std::exception&) {
                job.reset(); // the database is busy or failing: try again after the poll interval
            }
        }
        if (job) {
            if (auto outcome = run(*job)) {
                unrecorded.push_back(std::move(*outcome));
            }
            continue;
        }
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait_for(lock, kPollInterval, [&] { return stopping_ || wake_count_ != seen_wakes; });
        seen_wakes = wake_count_;
    }
}

JobOutcome JobRunner::execute(const JobRecord& job) {
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

    const json stored = parse_stored_json(job.request_json);
    if (!stored.is_object()) {
        throw InputError("the stored request of job " + job.id + " is damaged (not JSON, or over " +
                         std::to_string(kStoredRecordLimits.max_bytes) + " bytes or " +
                         std::to_string(kStoredRecordLimits.max_depth) + " levels)");
    }
    JobRequest request;
    try {
        request = job_request_from_json(stored);
    } catch (const json::exception& e) {
        throw InputError("the stored request of job " + job.id + " is damaged: " + e.what());
    }
    JobOutput output = execute_job(job.id, request, images_, models_, options_, on_progress);
    if (output.cancelled || should_stop(job.id)) {
        // A cancel ends the job; a clean stop of the server gives it back to run at the next start.
        bool asked_to_cancel = false;
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            asked_to_cancel = cancelled_.count(job.id) > 0;
        }
        const bool give_back = !asked_to_cancel && stopping();
        return {job.id, give_back ? JobOutcome::Kind::Release : JobOutcome::Kind::Cancel, {}, {}, {}};
    }
    const json result{{"width", output.image.width}, {"height", output.image.height}, {"seconds", output.seconds}};
    storage_.write_result(job.id, output.image, std::move(output.sidecar), result);
    return {job.id, JobOutcome::Kind::Finish, result.dump(), {}, {}};
}

std::optional<JobOutcome> JobRunner::run(const JobRecord& job) noexcept {
    publish_state(job.id);
    JobOutcome outcome;
    try {
        outcome = execute(job);
    } catch (const Error& e) {
        outcome = {job.id, JobOutcome::Kind::Fail, {}, e.code(), e.what()};
    } catch (const std::exception& e) {
        outcome = {job.id, JobOutcome::Kind::Fail, {}, "internal", e.what()};
    } catch (...) {
        outcome = {job.id, JobOutcome::Kind::Fail, {}, "internal", "the job ended with an unknown error"};
    }
    try {
        const std::lock_guard<std::mutex> lock(mutex_);
        cancelled_.erase(job.id);
    } catch (const std::exception&) {
        // A mutex that cannot be locked leaves a stale id behind; ids are never reused.
    }
    if (!record(outcome)) {
        return outcome;
    }
    publish_state(job.id);
    return std::nullopt;
}

} // namespace impasto::studio
