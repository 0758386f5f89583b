#include "server/storage_keeper.h"

#include "server/studio_error.h"

#include <algorithm>
#include <fmt/format.h>

namespace impasto::studio {

namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

namespace {

// The periodic pass; a write that crosses keep_bytes wakes it sooner.
constexpr auto kRetentionInterval = std::chrono::minutes(5);
// Below this much free space nothing new is admitted: SQLite, the results and the uploads all
// need room to finish what they have started.
constexpr std::int64_t kFreeSpaceReserve = std::int64_t{1024} * 1024;
// Ended jobs are removed in batches of this many rows.
constexpr int kRemovalBatch = 500;

constexpr double kMiB = 1024.0 * 1024.0;

[[noreturn]] void storage_full(const std::string& message) {
    throw StudioError(507, "storage_full", message);
}

Clock::time_point to_system(fs::file_time_type time) {
    // file_time_type's clock has no to_sys in C++17: shift by the two clocks' "now".
    return Clock::now() + std::chrono::duration_cast<Clock::duration>(time - fs::file_time_type::clock::now());
}

} // namespace

StorageKeeper::StorageKeeper(const StudioOptions& options, JobQueue& queue, ImageLibrary& images)
    : options_(options), queue_(queue), images_(images), results_(options.data_dir / "results"),
      database_(options.data_dir / "studio.sqlite3") {
    // Temporary files left by a crash mid-write, and results whose job no longer exists (a crash
    // between deleting the row and the files).
    std::error_code ec;
    for (const auto& item : fs::directory_iterator(results_.dir(), ec)) {
        const std::string name = item.path().filename().string();
        if (name.find(".tmp-") != std::string::npos) {
            fs::remove(item.path(), ec);
        }
    }
    for (const ResultFileInfo& result : results_.scan()) {
        if (!queue_.get(result.job_id)) {
            results_.remove(result.job_id);
        }
    }
    rescan_results(); // counts what is left
}

StorageKeeper::~StorageKeeper() {
    stop();
}

void StorageKeeper::start() {
    try {
        apply_retention();
    } catch (const std::exception&) {
        // A busy or failing database at start-up: the thread's next pass tries again.
    }
    const std::lock_guard<std::mutex> lock(thread_mutex_);
    if (!thread_.joinable()) {
        stopping_ = false;
        thread_ = std::thread([this] { retention_loop(); });
    }
}

void StorageKeeper::stop() {
    {
        const std::lock_guard<std::mutex> lock(thread_mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void StorageKeeper::retention_loop() {
    std::unique_lock<std::mutex> lock(thread_mutex_);
    while (!stopping_) {
        wake_.wait_for(lock, kRetentionInterval, [this] { return stopping_ || over_budget_; });
        if (stopping_) {
            return;
        }
        over_budget_ = false;
        lock.unlock();
        try {
            rescan_results();
            apply_retention();
        } catch (const std::exception&) {
            // The database is busy or failing: the next pass tries again. Nothing here may end
            // the process.
        }
        lock.lock();
    }
}

void StorageKeeper::wake_if_over_budget() {
    if (options_.keep_bytes > 0 && used_bytes() > options_.keep_bytes) {
        const std::lock_guard<std::mutex> lock(thread_mutex_);
        over_budget_ = true;
        wake_.notify_all();
    }
}

void StorageKeeper::rescan_results() {
    const std::lock_guard<std::mutex> lock(results_mutex_);
    std::int64_t bytes = 0;
    for (const ResultFileInfo& result : results_.scan()) {
        bytes += result.bytes;
    }
    result_bytes_ = bytes;
}

std::int64_t StorageKeeper::database_bytes() const {
    // The write-ahead log is left out: SQLite checkpoints it back into the file at about 4 MB.
    return file_bytes_or_zero(database_);
}

std::int64_t StorageKeeper::used_bytes() const {
    std::int64_t results = 0;
    {
        const std::lock_guard<std::mutex> lock(results_mutex_);
        results = result_bytes_;
    }
    std::int64_t reserved = 0;
    {
        const std::lock_guard<std::mutex> lock(reserved_mutex_);
        reserved = reserved_bytes_;
    }
    return images_.upload_totals().bytes + reserved + results + database_bytes();
}

std::int64_t StorageKeeper::upload_count() const {
    return images_.upload_totals().count;
}

void StorageKeeper::admit_job() const {
    const std::int64_t used = used_bytes();
    if (used >= options_.max_stored_bytes) {
        storage_full(fmt::format("the studio stores {:.1f} MiB, its limit is {:.1f} MiB: delete uploads or "
                                 "results (DELETE /api/uploads/ID, /api/jobs/ID) before starting more jobs",
                                 static_cast<double>(used) / kMiB,
                                 static_cast<double>(options_.max_stored_bytes) / kMiB));
    }
    std::error_code ec;
    const fs::space_info space = fs::space(options_.data_dir, ec);
    if (!ec && static_cast<std::int64_t>(space.available) < kFreeSpaceReserve) {
        storage_full("the disk of the data folder is full");
    }
}

void StorageKeeper::admit_upload(std::int64_t bytes) {
    {
        const std::lock_guard<std::mutex> lock(reserved_mutex_);
        const std::int64_t count = images_.upload_totals().count + reserved_uploads_;
        if (count >= options_.max_uploads) {
            storage_full(fmt::format("the studio holds {} uploads, its limit: delete some (DELETE /api/uploads/ID)",
                                     options_.max_uploads));
        }
        reserved_bytes_ += bytes;
        reserved_uploads_ += 1;
    }
    const std::int64_t after = used_bytes();
    if (after > options_.max_stored_bytes) {
        cancel_upload(bytes);
        storage_full(fmt::format("this upload would bring the studio to {:.1f} MiB, over its limit of {:.1f} MiB: "
                                 "delete uploads or results first",
                                 static_cast<double>(after) / kMiB,
                                 static_cast<double>(options_.max_stored_bytes) / kMiB));
    }
    std::error_code ec;
    const fs::space_info space = fs::space(options_.data_dir, ec);
    if (!ec && static_cast<std::int64_t>(space.available) < bytes + kFreeSpaceReserve) {
        cancel_upload(bytes);
        storage_full("the disk of the data folder is full");
    }
}

void StorageKeeper::finish_upload(std::int64_t bytes) {
    cancel_upload(bytes); // the library counts it now
    wake_if_over_budget();
}

void StorageKeeper::cancel_upload(std::int64_t bytes) {
    const std::lock_guard<std::mutex> lock(reserved_mutex_);
    reserved_bytes_ -= bytes;
    reserved_uploads_ -= 1;
}

void StorageKeeper::write_result(const std::string& job_id, const Image& image, nlohmann::json sidecar,
                                 const nlohmann::json& result) {
    {
        const std::lock_guard<std::mutex> lock(results_mutex_);
        const std::int64_t before = results_.bytes(job_id); // a re-run overwrites its earlier files
        result_bytes_ += results_.write(job_id, image, std::move(sidecar), result) - before;
    }
    wake_if_over_budget();
}

std::int64_t StorageKeeper::remove_job_locked(const std::string& id) {
    // The row first: once it is gone nothing serves the files, and a crash before they are
    // removed leaves orphans that the next start removes.
    if (queue_.remove(id) != RemoveOutcome::Removed) {
        return -1;
    }
    return remove_orphan_result(id);
}

std::int64_t StorageKeeper::remove_orphan_result(const std::string& id) {
    const std::lock_guard<std::mutex> lock(results_mutex_);
    const std::int64_t bytes = results_.remove(id);
    result_bytes_ -= bytes;
    return bytes;
}

std::int64_t StorageKeeper::remove_upload_locked(const std::string& id) {
    return images_.remove_upload(id);
}

DeleteResult StorageKeeper::delete_job(const std::string& id) {
    const std::lock_guard<std::mutex> lock(references_);
    DeleteResult result;
    switch (queue_.remove(id)) {
    case RemoveOutcome::Removed:
        remove_orphan_result(id);
        result.outcome = DeleteOutcome::Deleted;
        break;
    case RemoveOutcome::Running:
        result.outcome = DeleteOutcome::InUse;
        result.blocking_job = id;
        break;
    case RemoveOutcome::NotFound:
        // Files of a row deleted before a crash: removing them again is what "delete" means.
        remove_orphan_result(id);
        break;
    }
    return result;
}

DeleteResult StorageKeeper::delete_upload(const std::string& id) {
    const std::lock_guard<std::mutex> lock(references_);
    DeleteResult result;
    if (!images_.find(id)) {
        return result;
    }
    if (auto job = queue_.job_using_image(id)) {
        result.outcome = DeleteOutcome::InUse;
        result.blocking_job = std::move(*job);
        return result;
    }
    if (remove_upload_locked(id) > 0) {
        result.outcome = DeleteOutcome::Deleted;
    }
    return result;
}

void StorageKeeper::remove_older_than(Clock::time_point cutoff, RetentionReport& report) {
    // Results by their last use; the job goes with its result.
    for (const ResultFileInfo& result : results_.scan()) {
        if (to_system(result.last_used) >= cutoff) {
            continue;
        }
        const auto job = queue_.get(result.job_id);
        if (job && !is_terminal(job->state)) {
            continue;
        }
        const std::lock_guard<std::mutex> lock(references_);
        const std::int64_t freed = job ? remove_job_locked(result.job_id) : remove_orphan_result(result.job_id);
        if (freed >= 0) {
            report.jobs_removed += job ? 1 : 0;
            report.bytes_freed += freed;
        }
    }
    // Jobs that ended without a result, by when they ended.
    const std::int64_t cutoff_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(cutoff.time_since_epoch()).count();
    for (const JobState state : {JobState::Failed, JobState::Cancelled}) {
        for (;;) {
            JobFilter filter;
            filter.state = state;
            filter.finished_before_ms = cutoff_ms;
            filter.limit = kRemovalBatch;
            const std::vector<JobRecord> old = queue_.list(filter);
            int removed = 0;
            for (const JobRecord& job : old) {
                const std::lock_guard<std::mutex> lock(references_);
                if (remove_job_locked(job.id) >= 0) {
                    ++removed;
                }
            }
            report.jobs_removed += removed;
            if (removed == 0 || static_cast<int>(old.size()) < kRemovalBatch) {
                break;
            }
        }
    }
    for (const StoredUpload& upload : images_.stored_uploads()) {
        if (to_system(upload.last_used) >= cutoff) {
            continue;
        }
        const std::lock_guard<std::mutex> lock(references_);
        if (queue_.job_using_image(upload.id)) {
            continue;
        }
        const std::int64_t freed = remove_upload_locked(upload.id);
        if (freed > 0) {
            ++report.uploads_removed;
            report.bytes_freed += freed;
        }
    }
}

void StorageKeeper::evict_to_budget(RetentionReport& report) {
    struct Candidate {
        fs::file_time_type last_used;
        std::string id;
        bool is_upload = false;
    };
    std::vector<Candidate> candidates;
    for (const ResultFileInfo& result : results_.scan()) {
        candidates.push_back({result.last_used, result.job_id, false});
    }
    for (const StoredUpload& upload : images_.stored_uploads()) {
        candidates.push_back({upload.last_used, upload.id, true});
    }
    std::sort(candidates.begin(), candidates.end(),
              [](const Candidate& a, const Candidate& b) { return a.last_used < b.last_used; });
    for (const Candidate& candidate : candidates) {
        if (used_bytes() <= options_.keep_bytes) {
            return;
        }
        const std::lock_guard<std::mutex> lock(references_);
        if (candidate.is_upload) {
            if (queue_.job_using_image(candidate.id)) {
                continue; // a queued or running job needs it
            }
            const std::int64_t freed = remove_upload_locked(candidate.id);
            if (freed > 0) {
                ++report.uploads_removed;
                report.bytes_freed += freed;
            }
            continue;
        }
        const auto job = queue_.get(candidate.id);
        if (job && !is_terminal(job->state)) {
            continue; // re-queued after a crash: it will write its result again
        }
        const std::int64_t freed = job ? remove_job_locked(candidate.id) : remove_orphan_result(candidate.id);
        if (freed >= 0) {
            report.jobs_removed += job ? 1 : 0;
            report.bytes_freed += freed;
        }
    }
}

RetentionReport StorageKeeper::apply_retention() {
    RetentionReport report;
    if (options_.keep_days > 0) {
        remove_older_than(Clock::now() - std::chrono::hours(24) * options_.keep_days, report);
    }
    if (options_.keep_bytes > 0 && used_bytes() > options_.keep_bytes) {
        evict_to_budget(report);
    }
    return report;
}

} // namespace impasto::studio
