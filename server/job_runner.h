#pragma once
// The studio's workers: each claims the oldest queued job, runs it with the shared models,
// publishes its progress, writes the result atomically and records the outcome in the queue.
#include "server/event_hub.h"
#include "server/image_library.h"
#include "server/job_queue.h"
#include "server/model_cache.h"
#include "server/studio_options.h"

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace impasto::studio {

class JobRunner {
  public:
    JobRunner(JobQueue& queue, EventHub& hub, const ImageLibrary& images, ModelCache& models,
              const StudioOptions& options, std::filesystem::path results_dir);
    ~JobRunner();
    JobRunner(const JobRunner&) = delete;
    JobRunner& operator=(const JobRunner&) = delete;

    void start();
    // Stops the workers. A job still running stays "running" in the queue, so the next start
    // re-queues it exactly as after a crash.
    void stop();
    void wake(); // a job was queued
    // Asks a running job to stop at its next step (the queue already holds the request).
    void cancel(const std::string& job_id);

    std::filesystem::path image_file(const std::string& job_id) const;
    std::filesystem::path sidecar_file(const std::string& job_id) const;

  private:
    void worker_loop();
    void run(const JobRecord& job);
    bool should_stop(const std::string& job_id);
    void publish_state(const std::string& job_id);

    JobQueue& queue_;
    EventHub& hub_;
    const ImageLibrary& images_;
    ModelCache& models_;
    const StudioOptions& options_;
    std::filesystem::path results_dir_;

    std::mutex mutex_;
    std::condition_variable wake_;
    std::set<std::string> cancelled_;
    bool stopping_ = false;
    std::uint64_t wake_count_ = 0;
    std::vector<std::thread> workers_;
};

} // namespace impasto::studio
