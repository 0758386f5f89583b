#pragma once
// Votes in the studio's SQLite file, beside the job queue (a connection of their own).
#include "server/sqlite_db.h"
#include "server/vote_store.h"

#include <filesystem>
#include <mutex>

namespace impasto::studio {

class SqliteVoteStore final : public VoteStore {
  public:
    // Opens the database file (its folder must exist), creating or migrating the tables.
    // Throws impasto::OutputError when the file cannot be opened or is not a studio database.
    explicit SqliteVoteStore(const std::filesystem::path& database_path);

    // Throws impasto::ConfigError when winner is not "a" or "b", or a job id is empty, or the two are the same job.
    Vote add(const Vote& vote) override;
    std::vector<Vote> all() const override;
    std::int64_t count() const override;
    std::int64_t count_between(const std::string& job_a, const std::string& job_b) const override;

  private:
    // One connection, used by one thread at a time.
    mutable std::mutex mutex_;
    mutable sqlite::Database database_;
};

} // namespace impasto::studio
