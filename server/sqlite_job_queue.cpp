#include "server/sqlite_job_queue.h"

#include "impasto/error.h"

#include <chrono>

namespace impasto::studio {

namespace {

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// The columns in JobRecord's order; read_job() reads them back by position.
constexpr const char* job_columns = "id, state, request_json, content_id, settings_key, progress_json, result_json, "
                                    "error_code, error_message, created_ms, started_ms, finished_ms, attempts, "
                                    "cancel_requested, client, idempotency_key";

JobRecord read_job(const sqlite::Statement& row) {
    JobRecord job;
    job.id = row.column_text(0);
    const std::string state = row.column_text(1);
    const auto parsed = parse_job_state(state);
    if (!parsed) {
        // The table's CHECK constraint rules this out; a hand-edited file could still get here.
        throw OutputError("job '" + job.id + "' has an unknown state '" + state + "' in the database");
    }
    job.state = *parsed;
    job.request_json = row.column_text(2);
    job.content_id = row.column_text(3);
    job.settings_key = row.column_text(4);
    job.progress_json = row.column_text(5);
    job.result_json = row.column_text(6);
    job.error_code = row.column_text(7);
    job.error_message = row.column_text(8);
    job.created_ms = row.column_int64(9);
    job.started_ms = row.column_int64(10);
    job.finished_ms = row.column_int64(11);
    job.attempts = static_cast<int>(row.column_int64(12));
    job.cancel_requested = row.column_int64(13) != 0;
    job.client = row.column_text(14);
    job.idempotency_key = row.column_text(15);
    return job;
}

} // namespace

SqliteJobQueue::SqliteJobQueue(const std::filesystem::path& database_path)
    : database_(sqlite::open_studio_database(database_path)) {}

SqliteJobQueue::SqliteJobQueue(sqlite::Database database) : database_(std::move(database)) {
    sqlite::migrate_studio_database(database_);
}

std::optional<JobRecord> SqliteJobQueue::get_locked(const std::string& id) const {
    sqlite::Statement select(database_, std::string("SELECT ") + job_columns + " FROM jobs WHERE id = ?1");
    select.bind(1, id);
    if (!select.step()) {
        return std::nullopt;
    }
    return read_job(select);
}

std::optional<JobRecord> SqliteJobQueue::find_by_key_locked(const std::string& idempotency_key) const {
    if (idempotency_key.empty()) {
        return std::nullopt;
    }
    sqlite::Statement select(database_, std::string("SELECT ") + job_columns + " FROM jobs WHERE idempotency_key = ?1");
    select.bind(1, idempotency_key);
    if (!select.step()) {
        return std::nullopt;
    }
    return read_job(select);
}

std::int64_t SqliteJobQueue::count_unfinished_locked(const std::string* client) const {
    sqlite::Statement count(database_, "SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running') "
                                       "AND (?1 IS NULL OR client = ?1)");
    if (client != nullptr) {
        count.bind(1, *client);
    }
    count.step();
    return count.column_int64(0);
}

SubmitResult SqliteJobQueue::submit(const JobRecord& record, const SubmitLimits& limits) {
    if (record.id.empty()) {
        throw ConfigError("submitting a job: the job id is empty");
    }
    const std::lock_guard lock(mutex_);
    sqlite::Transaction transaction(database_);
    SubmitResult result;
    // The key first: a retry of an accepted request gets its job even when the queue is full now.
    if (auto holder = find_by_key_locked(record.idempotency_key)) {
        result.outcome =
            holder->request_json == record.request_json ? SubmitOutcome::Replayed : SubmitOutcome::KeyConflict;
        result.job = std::move(*holder);
        return result;
    }
    if (get_locked(record.id)) {
        throw ConfigError("submitting a job: the id '" + record.id + "' is already taken");
    }
    if (limits.max_unfinished > 0) {
        result.unfinished = count_unfinished_locked(nullptr);
        if (result.unfinished >= limits.max_unfinished) {
            result.outcome = SubmitOutcome::QueueFull;
            return result;
        }
    }
    if (limits.max_unfinished_per_client > 0) {
        result.unfinished = count_unfinished_locked(&record.client);
        if (result.unfinished >= limits.max_unfinished_per_client) {
            result.outcome = SubmitOutcome::ClientQueueFull;
            return result;
        }
    }
    sqlite::Statement insert(database_, "INSERT INTO jobs (id, state, request_json, content_id, settings_key, "
                                        "created_ms, client, idempotency_key) "
                                        "VALUES (?1, 'queued', ?2, ?3, ?4, ?5, ?6, ?7)");
    insert.bind(1, record.id).bind(2, record.request_json).bind(3, record.content_id).bind(4, record.settings_key);
    insert.bind(5, now_ms()).bind(6, record.client).bind(7, record.idempotency_key).run();
    result.job = *get_locked(record.id);
    transaction.commit();
    return result;
}

std::optional<JobRecord> SqliteJobQueue::find_by_key(const std::string& idempotency_key) const {
    const std::lock_guard lock(mutex_);
    return find_by_key_locked(idempotency_key);
}

std::optional<JobRecord> SqliteJobQueue::claim() {
    const std::lock_guard lock(mutex_);
    // BEGIN IMMEDIATE holds the write lock from the select to the update, so a second
    // connection (another process on the same file) cannot pick the same job.
    sqlite::Transaction transaction(database_);
    sqlite::Statement oldest(database_, "SELECT id FROM jobs WHERE state = 'queued' ORDER BY seq LIMIT 1");
    if (!oldest.step()) {
        return std::nullopt;
    }
    const std::string id = oldest.column_text(0);
    sqlite::Statement update(database_, "UPDATE jobs SET state = 'running', started_ms = ?2, attempts = attempts + 1, "
                                        "progress_json = '', cancel_requested = 0 WHERE id = ?1");
    update.bind(1, id).bind(2, now_ms()).run();
    auto claimed = get_locked(id);
    transaction.commit();
    return claimed;
}

std::optional<JobRecord> SqliteJobQueue::get(const std::string& id) const {
    const std::lock_guard lock(mutex_);
    return get_locked(id);
}

std::vector<JobRecord> SqliteJobQueue::list(const JobFilter& filter) const {
    if (filter.limit < 1) {
        throw ConfigError("listing jobs: limit " + std::to_string(filter.limit) + " is below 1");
    }
    const std::lock_guard lock(mutex_);
    // Absent filters are bound as NULL and match everything, so one statement serves every case.
    sqlite::Statement select(database_, std::string("SELECT ") + job_columns +
                                            " FROM jobs WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR "
                                            "content_id = ?2) AND (?4 IS NULL OR (finished_ms > 0 AND "
                                            "finished_ms < ?4)) ORDER BY seq DESC LIMIT ?3");
    if (filter.state) {
        select.bind(1, to_string(*filter.state));
    }
    if (!filter.content_id.empty()) {
        select.bind(2, filter.content_id);
    }
    select.bind(3, filter.limit);
    if (filter.finished_before_ms > 0) {
        select.bind(4, filter.finished_before_ms);
    }
    std::vector<JobRecord> jobs;
    while (select.step()) {
        jobs.push_back(read_job(select));
    }
    return jobs;
}

QueueCounts SqliteJobQueue::counts() const {
    const std::lock_guard lock(mutex_);
    sqlite::Statement select(database_, "SELECT state, COUNT(*) FROM jobs GROUP BY state");
    QueueCounts counts;
    while (select.step()) {
        const auto state = parse_job_state(select.column_text(0));
        const std::int64_t count = select.column_int64(1);
        if (!state) {
            continue;
        }
        switch (*state) {
        case JobState::Queued:
            counts.queued = count;
            break;
        case JobState::Running:
            counts.running = count;
            break;
        case JobState::Done:
            counts.done = count;
            break;
        case JobState::Failed:
            counts.failed = count;
            break;
        case JobState::Cancelled:
            counts.cancelled = count;
            break;
        }
    }
    return counts;
}

void SqliteJobQueue::set_progress(const std::string& id, const std::string& progress_json) {
    const std::lock_guard lock(mutex_);
    sqlite::Statement update(database_, "UPDATE jobs SET progress_json = ?2 WHERE id = ?1 AND state = 'running'");
    update.bind(1, id).bind(2, progress_json).run();
}

// finish, fail and mark_cancelled are each one UPDATE guarded by "state = 'running'": SQLite
// runs a statement atomically, so the guard and the change cannot be split by another writer.
bool SqliteJobQueue::finish(const std::string& id, const std::string& result_json) {
    const std::lock_guard lock(mutex_);
    sqlite::Statement update(database_, "UPDATE jobs SET state = 'done', result_json = ?2, finished_ms = ?3 "
                                        "WHERE id = ?1 AND state = 'running'");
    update.bind(1, id).bind(2, result_json).bind(3, now_ms()).run();
    return database_.changes() == 1;
}

bool SqliteJobQueue::fail(const std::string& id, const std::string& code, const std::string& message) {
    const std::lock_guard lock(mutex_);
    sqlite::Statement update(database_, "UPDATE jobs SET state = 'failed', error_code = ?2, error_message = ?3, "
                                        "finished_ms = ?4 WHERE id = ?1 AND state = 'running'");
    update.bind(1, id).bind(2, code).bind(3, message).bind(4, now_ms()).run();
    return database_.changes() == 1;
}

bool SqliteJobQueue::mark_cancelled(const std::string& id) {
    const std::lock_guard lock(mutex_);
    sqlite::Statement update(database_, "UPDATE jobs SET state = 'cancelled', finished_ms = ?2 "
                                        "WHERE id = ?1 AND state = 'running'");
    update.bind(1, id).bind(2, now_ms()).run();
    return database_.changes() == 1;
}

std::optional<JobRecord> SqliteJobQueue::request_cancel(const std::string& id) {
    const std::lock_guard lock(mutex_);
    sqlite::Transaction transaction(database_);
    sqlite::Statement cancel_queued(database_, "UPDATE jobs SET state = 'cancelled', finished_ms = ?2 "
                                               "WHERE id = ?1 AND state = 'queued'");
    cancel_queued.bind(1, id).bind(2, now_ms()).run();
    sqlite::Statement flag_running(database_,
                                   "UPDATE jobs SET cancel_requested = 1 WHERE id = ?1 AND state = 'running'");
    flag_running.bind(1, id).run();
    auto job = get_locked(id);
    transaction.commit();
    return job;
}

bool SqliteJobQueue::release(const std::string& id) {
    const std::lock_guard lock(mutex_);
    sqlite::Statement update(database_, "UPDATE jobs SET state = 'queued', progress_json = '', started_ms = 0, "
                                        "attempts = MAX(attempts - 1, 0) "
                                        "WHERE id = ?1 AND state = 'running' AND cancel_requested = 0");
    update.bind(1, id).run();
    return database_.changes() == 1;
}

RemoveOutcome SqliteJobQueue::remove(const std::string& id) {
    const std::lock_guard lock(mutex_);
    sqlite::Transaction transaction(database_);
    sqlite::Statement remove(database_, "DELETE FROM jobs WHERE id = ?1 AND state != 'running'");
    remove.bind(1, id).run();
    if (database_.changes() == 1) {
        transaction.commit();
        return RemoveOutcome::Removed;
    }
    const bool exists = get_locked(id).has_value();
    transaction.commit();
    return exists ? RemoveOutcome::Running : RemoveOutcome::NotFound;
}

std::optional<std::string> SqliteJobQueue::job_using_image(const std::string& image_id) const {
    const std::lock_guard lock(mutex_);
    // Ids appear in the request as JSON strings: quoted, the id cannot match inside a longer one,
    // and a quote inside a string value (a label) would be escaped.
    sqlite::Statement select(database_, "SELECT id FROM jobs WHERE state IN ('queued', 'running') "
                                        "AND (content_id = ?1 OR instr(request_json, ?2) > 0) LIMIT 1");
    select.bind(1, image_id).bind(2, "\"" + image_id + "\"");
    if (!select.step()) {
        return std::nullopt;
    }
    return select.column_text(0);
}

int SqliteJobQueue::recover_interrupted(int max_attempts) {
    const std::lock_guard lock(mutex_);
    sqlite::Transaction transaction(database_);
    // A job whose cancel was asked for was as good as cancelled; running it again would
    // surprise the user who asked.
    sqlite::Statement cancel(database_, "UPDATE jobs SET state = 'cancelled', finished_ms = ?1 "
                                        "WHERE state = 'running' AND cancel_requested = 1");
    cancel.bind(1, now_ms()).run();
    if (max_attempts > 0) {
        sqlite::Statement give_up(database_, "UPDATE jobs SET state = 'failed', error_code = 'crashed', "
                                             "error_message = 'crashed the worker ' || attempts || ' times; it is "
                                             "not run again', finished_ms = ?1 "
                                             "WHERE state = 'running' AND attempts >= ?2");
        give_up.bind(1, now_ms()).bind(2, max_attempts).run();
    }
    sqlite::Statement requeue(database_, "UPDATE jobs SET state = 'queued', progress_json = '', started_ms = 0 "
                                         "WHERE state = 'running'");
    requeue.run();
    const auto requeued = static_cast<int>(database_.changes());
    transaction.commit();
    return requeued;
}

} // namespace impasto::studio
