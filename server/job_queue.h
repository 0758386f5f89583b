#pragma once
// The studio's job queue, behind an interface: routes and workers see only JobQueue, so a
// shared queue (Redis, a database server) for workers on several machines can replace the
// embedded SQLite one without touching them.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace impasto::studio {

enum class JobState { Queued, Running, Done, Failed, Cancelled };
const char* to_string(JobState state); // "queued", ...
std::optional<JobState> parse_job_state(const std::string& text);
bool is_terminal(JobState state); // done, failed, cancelled

struct JobRecord {
    std::string id;
    JobState state = JobState::Queued;
    std::string request_json;  // the submitted job, params resolved: method, content, styles, params, parent
    std::string content_id;    // for filtering and pairing
    std::string settings_key;  // jobs with equal settings are ranked together
    std::string progress_json; // last progress object, "" before the first
    std::string result_json;   // set when done
    std::string error_code;    // set when failed
    std::string error_message;
    std::int64_t created_ms = 0; // Unix milliseconds; 0 = not yet
    std::int64_t started_ms = 0;
    std::int64_t finished_ms = 0;
    int attempts = 0; // times a worker claimed it
    bool cancel_requested = false;
};

struct JobFilter {
    std::optional<JobState> state;
    std::string content_id; // "" = any
    int limit = 100;
};

struct QueueCounts {
    std::int64_t queued = 0, running = 0, done = 0, failed = 0, cancelled = 0;
};

// Every method is safe to call from several threads. Transitions are atomic: a job is claimed
// by exactly one worker, and a job that has ended never changes again.
class JobQueue {
  public:
    virtual ~JobQueue() = default;

    // Stores a new queued job (record.id, request_json, content_id, settings_key are the caller's;
    // state, times and attempts are set here) and returns it as stored. Throws on a duplicate id.
    virtual JobRecord submit(const JobRecord& record) = 0;
    // The oldest queued job, now running (started_ms set, attempts + 1); nullopt when none.
    virtual std::optional<JobRecord> claim() = 0;
    virtual std::optional<JobRecord> get(const std::string& id) const = 0;
    virtual std::vector<JobRecord> list(const JobFilter& filter) const = 0; // newest first
    virtual QueueCounts counts() const = 0;

    // A running job's latest progress (not stored for jobs that are not running).
    virtual void set_progress(const std::string& id, const std::string& progress_json) = 0;
    // running -> done / failed / cancelled. Return false (and change nothing) when the job is not running.
    virtual bool finish(const std::string& id, const std::string& result_json) = 0;
    virtual bool fail(const std::string& id, const std::string& code, const std::string& message) = 0;
    virtual bool mark_cancelled(const std::string& id) = 0;
    // queued -> cancelled at once; running -> cancel_requested set (the worker stops it). Returns
    // the job after the change, nullopt when the id is unknown. An ended job is returned unchanged.
    virtual std::optional<JobRecord> request_cancel(const std::string& id) = 0;
    // After a crash: every running job goes back to queued (progress cleared, or straight to
    // cancelled when its cancel was requested). Returns how many were re-queued.
    virtual int recover_interrupted() = 0;
};

} // namespace impasto::studio
