#pragma once
// The studio's workers: each claims the oldest queued job, runs it with the shared models,
// publishes its progress, writes the result atomically and records the outcome in the queue.
//
// Nothing a job or the database does may end the process: an error fails the job, and when even
// that cannot be recorded (a full disk, a locked database) the worker keeps the outcome and
// records it once the database answers again. A job left running by a crash is recovered at the
// next start: finished when its result files are complete, failed when it has crashed the worker
// max_attempts times, re-queued otherwise.
#include "server/event_hub.h"
#include "server/image_library.h"
#include "server/job_queue.h"
#include "server/model_cache.h"
#include "server/storage_keeper.h"
#include "server/studio_options.h"

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace impasto::studio {

// How a run ended, to be recorded in the queue.
struct JobOutcome {
    enum class Kind { Finish, Fail, Cancel, Release };
    std::string job_id;
    Kind kind = Kind::Fail;
    std::string result_json;   // Finish
    std::string error_code;    // Fail
    std::string error_message; // Fail
};

class JobRunner {
  public:
    JobRunner(JobQueue& queue, EventHub& hub, const ImageLibrary& images, ModelCache& models,
              const StudioOptions& options, StorageKeeper& storage);
    ~JobRunner();
    JobRunner(const JobRunner&) = delete;
    JobRunner& operator=(const JobRunner&) = delete;

    // Before start(): the jobs a crash left running are finished (complete result on disk), failed
    // (claimed options.max_attempts times already) or re-queued. Returns how many were re-queued.
    int recover();

    void start();
    // Stops the workers. A job still running is given back to the queue (queued again, its
    // attempt not counted), to run again at the next start.
    void stop();
    void wake(); // a job was queued
    // Asks a running job to stop at its next step (the queue already holds the request).
    void cancel(const std::string& job_id);

    std::filesystem::path image_file(const std::string& job_id) const;
    std::filesystem::path sidecar_file(const std::string& job_id) const;

  private:
    void worker_loop();
    // Runs the job; returns its outcome when it could not be recorded yet.
    std::optional<JobOutcome> run(const JobRecord& job) noexcept;
    JobOutcome execute(const JobRecord& job);
    // True when recorded (or when the queue says the job is no longer running).
    bool record(const JobOutcome& outcome) noexcept;
    bool should_stop(const std::string& job_id);
    bool stopping();
    void publish_state(const std::string& job_id) noexcept;

    JobQueue& queue_;
    EventHub& hub_;
    const ImageLibrary& images_;
    ModelCache& models_;
    const StudioOptions& options_;
    StorageKeeper& storage_;

    std::mutex mutex_;
    std::condition_variable wake_;
    std::set<std::string> cancelled_;
    bool stopping_ = false;
    std::uint64_t wake_count_ = 0;
    std::vector<std::thread> workers_;
};

} // namespace impasto::studio
