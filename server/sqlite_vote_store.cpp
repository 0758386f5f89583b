#include "server/sqlite_vote_store.h"

#include "impasto/error.h"

#include <chrono>
#include <random>

namespace impasto::studio {

namespace {

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// 24 hex digits (96 bits) from the system's entropy source: ids cannot be guessed, and a
// collision is never expected (the UNIQUE constraint would still refuse one).
std::string random_vote_id() {
    static constexpr char digits[] = "0123456789abcdef";
    std::random_device entropy;
    std::string id = "v_";
    for (int word = 0; word < 3; ++word) {
        auto bits = static_cast<std::uint32_t>(entropy());
        for (int digit = 0; digit < 8; ++digit) {
            id += digits[bits & 0xFU];
            bits >>= 4U;
        }
    }
    return id;
}

} // namespace

SqliteVoteStore::SqliteVoteStore(const std::filesystem::path& database_path)
    : database_(sqlite::open_studio_database(database_path)) {}

Vote SqliteVoteStore::add(const Vote& vote) {
    if (vote.winner != "a" && vote.winner != "b") {
        throw ConfigError("storing a vote: winner '" + vote.winner + R"(' is not "a" or "b")");
    }
    if (vote.job_a.empty() || vote.job_b.empty()) {
        throw ConfigError("storing a vote: a job id is empty");
    }
    if (vote.job_a == vote.job_b) {
        throw ConfigError("storing a vote: both sides are job '" + vote.job_a + "'");
    }
    Vote stored = vote;
    stored.id = random_vote_id();
    stored.created_ms = now_ms();
    const std::lock_guard lock(mutex_);
    sqlite::Statement insert(database_, "INSERT INTO votes (id, job_a, job_b, winner, settings_a, settings_b, "
                                        "created_ms, label_a, label_b, method_a, method_b) "
                                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    insert.bind(1, stored.id).bind(2, stored.job_a).bind(3, stored.job_b).bind(4, stored.winner);
    insert.bind(5, stored.settings_a).bind(6, stored.settings_b).bind(7, stored.created_ms);
    insert.bind(8, stored.label_a).bind(9, stored.label_b).bind(10, stored.method_a).bind(11, stored.method_b).run();
    return stored;
}

std::vector<Vote> SqliteVoteStore::all() const {
    const std::lock_guard lock(mutex_);
    sqlite::Statement select(database_, "SELECT id, job_a, job_b, winner, settings_a, settings_b, created_ms, "
                                        "label_a, label_b, method_a, method_b FROM votes ORDER BY seq");
    std::vector<Vote> votes;
    while (select.step()) {
        Vote vote;
        vote.id = select.column_text(0);
        vote.job_a = select.column_text(1);
        vote.job_b = select.column_text(2);
        vote.winner = select.column_text(3);
        vote.settings_a = select.column_text(4);
        vote.settings_b = select.column_text(5);
        vote.created_ms = select.column_int64(6);
        vote.label_a = select.column_text(7);
        vote.label_b = select.column_text(8);
        vote.method_a = select.column_text(9);
        vote.method_b = select.column_text(10);
        votes.push_back(std::move(vote));
    }
    return votes;
}

std::int64_t SqliteVoteStore::count() const {
    const std::lock_guard lock(mutex_);
    sqlite::Statement select(database_, "SELECT COUNT(*) FROM votes");
    select.step();
    return select.column_int64(0);
}

std::int64_t SqliteVoteStore::count_between(const std::string& job_a, const std::string& job_b) const {
    const std::lock_guard lock(mutex_);
    sqlite::Statement select(database_, "SELECT COUNT(*) FROM votes WHERE (job_a = ?1 AND job_b = ?2) "
                                        "OR (job_a = ?2 AND job_b = ?1)");
    select.bind(1, job_a).bind(2, job_b);
    select.step();
    return select.column_int64(0);
}

} // namespace impasto::studio
