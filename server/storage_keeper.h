#pragma once
// What the studio keeps on disk, and how much: the uploads, the results and the database. It
// meters their bytes, admits new uploads and jobs against the quotas (StudioOptions: max stored
// bytes, max uploads), deletes uploads and jobs on request, and applies the retention policy
// (keep_days: what was not used for that long; keep_bytes: the least recently used beyond a
// budget) at start-up, every few minutes, and soon after a write that crosses the budget.
// docs/studio_limits.md describes the policy.
#include "server/image_library.h"
#include "server/job_queue.h"
#include "server/result_files.h"
#include "server/studio_options.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

namespace impasto::studio {

struct RetentionReport {
    int jobs_removed = 0;
    int uploads_removed = 0;
    std::int64_t bytes_freed = 0;
};

enum class DeleteOutcome { Deleted, NotFound, InUse };

struct DeleteResult {
    DeleteOutcome outcome = DeleteOutcome::NotFound;
    std::string blocking_job; // InUse: the running job (or the queued/running job using an upload)
};

class StorageKeeper final : public UploadQuota {
  public:
    // The results folder is <data>/results and the database <data>/studio.sqlite3.
    StorageKeeper(const StudioOptions& options, JobQueue& queue, ImageLibrary& images);
    ~StorageKeeper() override;
    StorageKeeper(const StorageKeeper&) = delete;
    StorageKeeper& operator=(const StorageKeeper&) = delete;

    const ResultFiles& results() const { return results_; }

    // Applies the retention policy once, then every few minutes on a thread of its own.
    void start();
    void stop();

    // Held while a job is submitted and while an upload is deleted, so that a job never names an
    // upload deleted between its check and its insert.
    std::unique_lock<std::mutex> hold_references() { return std::unique_lock<std::mutex>(references_); }

    // Throws StudioError 507 "storage_full" when the stored bytes have reached the quota or the
    // disk is (nearly) full: a job would have nowhere to put its result.
    void admit_job() const;
    // Throws StudioError 507 when `bytes` more would pass the byte quota or the upload count, or
    // would not fit on the disk. On success the bytes are reserved until finish or cancel.
    void admit_upload(std::int64_t bytes) override;
    void finish_upload(std::int64_t bytes) override;
    void cancel_upload(std::int64_t bytes) override;
    // Writes a job's result files (ResultFiles::write) and counts them; above keep_bytes, wakes
    // the eviction.
    void write_result(const std::string& job_id, const Image& image, nlohmann::json sidecar,
                      const nlohmann::json& result);

    std::int64_t used_bytes() const; // uploads, results and the database file
    std::int64_t upload_count() const;

    // A job and its result files: refused (InUse) while it runs. Votes keep their settings.
    DeleteResult delete_job(const std::string& id);
    // An upload and its record: refused (InUse) while a queued or running job names it. Throws
    // StudioError 400 for a gallery image (read-only).
    DeleteResult delete_upload(const std::string& id);

    RetentionReport apply_retention();

  private:
    void retention_loop();
    void wake_if_over_budget();
    void rescan_results();
    std::int64_t database_bytes() const;
    // Holding references_. Returns the bytes freed.
    std::int64_t remove_job_locked(const std::string& id);
    std::int64_t remove_upload_locked(const std::string& id);
    // Result files whose row is gone (or is being removed): removes and uncounts them.
    std::int64_t remove_orphan_result(const std::string& id);
    void evict_to_budget(RetentionReport& report);
    void remove_older_than(std::chrono::system_clock::time_point cutoff, RetentionReport& report);

    const StudioOptions& options_;
    JobQueue& queue_;
    ImageLibrary& images_;
    ResultFiles results_;
    std::filesystem::path database_;

    std::mutex references_;
    // Uploads admitted and not yet stored (the library counts the stored ones).
    mutable std::mutex reserved_mutex_;
    std::int64_t reserved_bytes_ = 0;
    std::int64_t reserved_uploads_ = 0;
    // Result files: counted under the lock their writes and removals take, so a rescan never
    // misses or double-counts one being written.
    mutable std::mutex results_mutex_;
    std::int64_t result_bytes_ = 0;

    std::mutex thread_mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    bool over_budget_ = false;
    std::thread thread_;
};

} // namespace impasto::studio
