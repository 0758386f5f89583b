#pragma once
// The studio's job queue in an SQLite file: survives restarts and crashes, and several
// processes may share the file (each transition is one transaction).
#include "server/job_queue.h"
#include "server/sqlite_db.h"

#include <filesystem>
#include <mutex>

namespace impasto::studio {

class SqliteJobQueue final : public JobQueue {
  public:
    // Opens the database file (its folder must exist), creating or migrating the tables.
    // Throws impasto::OutputError when the file cannot be opened or is not a studio database.
    explicit SqliteJobQueue(const std::filesystem::path& database_path);
    // Over a connection the caller opened (and may have set up, e.g. PRAGMA max_page_count).
    explicit SqliteJobQueue(sqlite::Database database);

    using JobQueue::recover_interrupted;
    using JobQueue::submit;
    // Throws impasto::ConfigError for an empty or duplicate id.
    SubmitResult submit(const JobRecord& record, const SubmitLimits& limits) override;
    std::optional<JobRecord> find_by_key(const std::string& idempotency_key) const override;
    std::optional<JobRecord> claim() override;
    std::optional<JobRecord> get(const std::string& id) const override;
    // Throws impasto::ConfigError when filter.limit is below 1.
    std::vector<JobRecord> list(const JobFilter& filter) const override;
    QueueCounts counts() const override;

    void set_progress(const std::string& id, const std::string& progress_json) override;
    bool finish(const std::string& id, const std::string& result_json) override;
    bool fail(const std::string& id, const std::string& code, const std::string& message) override;
    bool mark_cancelled(const std::string& id) override;
    std::optional<JobRecord> request_cancel(const std::string& id) override;
    bool release(const std::string& id) override;
    RemoveOutcome remove(const std::string& id) override;
    std::optional<std::string> job_using_image(const std::string& image_id) const override;
    int recover_interrupted(int max_attempts) override;

  private:
    std::optional<JobRecord> get_locked(const std::string& id) const;
    std::optional<JobRecord> find_by_key_locked(const std::string& idempotency_key) const;
    std::int64_t count_unfinished_locked(const std::string* client) const;

    // One connection, used by one thread at a time.
    mutable std::mutex mutex_;
    mutable sqlite::Database database_;
};

} // namespace impasto::studio
