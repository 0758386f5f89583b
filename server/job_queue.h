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
    int attempts = 0; // runs started and not given back by a clean stop: a crash counts
    bool cancel_requested = false;
    std::string client;          // who submitted it (the studio: the remote address), for per-client limits
    std::string idempotency_key; // "" = none; a key names at most one job
};

struct JobFilter {
    std::optional<JobState> state;
    std::string content_id; // "" = any
    int limit = 100;
    std::int64_t finished_before_ms = 0; // > 0: only jobs that ended before this time
};

struct QueueCounts {
    std::int64_t queued = 0, running = 0, done = 0, failed = 0, cancelled = 0;
};

// Refusals that keep the queue from growing without bound. 0 = no limit.
struct SubmitLimits {
    std::int64_t max_unfinished = 0;            // queued or running jobs, in all
    std::int64_t max_unfinished_per_client = 0; // queued or running jobs of the record's client
};

enum class SubmitOutcome {
    Created,         // stored as a new queued job
    Replayed,        // the key names a job with the same request: that job, unchanged
    KeyConflict,     // the key names a job with another request: nothing stored
    QueueFull,       // max_unfinished reached: nothing stored
    ClientQueueFull, // max_unfinished_per_client reached: nothing stored
};

struct SubmitResult {
    SubmitOutcome outcome = SubmitOutcome::Created;
    JobRecord job;               // Created, Replayed, KeyConflict: the job that holds the id or key
    std::int64_t unfinished = 0; // QueueFull, ClientQueueFull: how many there are
};

enum class RemoveOutcome { Removed, NotFound, Running };

// Every method is safe to call from several threads. Transitions are atomic: a job is claimed
// by exactly one worker, and a job that has ended never changes again.
class JobQueue {
  public:
    virtual ~JobQueue() = default;

    // Stores a new queued job (record.id, request_json, content_id, settings_key, client and
    // idempotency_key are the caller's; state, times and attempts are set here), unless a limit
    // or the idempotency key says otherwise: the check and the insert are one transaction.
    // Throws on an empty or duplicate id.
    virtual SubmitResult submit(const JobRecord& record, const SubmitLimits& limits) = 0;
    // Without limits; returns the stored job. Throws ConfigError when the key names another request.
    JobRecord submit(const JobRecord& record);
    // The job that holds this idempotency key, if any.
    virtual std::optional<JobRecord> find_by_key(const std::string& idempotency_key) const = 0;
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
    // running -> queued after a clean stop of the worker: the run is given back, so its attempt
    // does not count. False (and nothing changed) when the job is not running or its cancel was
    // requested.
    virtual bool release(const std::string& id) = 0;
    // Deletes the job's row, in any state but running (a running job must be cancelled first).
    virtual RemoveOutcome remove(const std::string& id) = 0;
    // A queued or running job whose request names this image id (content or style), if any.
    virtual std::optional<std::string> job_using_image(const std::string& image_id) const = 0;

    // After a crash: every running job goes back to queued (progress cleared), or to cancelled
    // when its cancel was requested, or to failed ("crashed the worker N times") when it has
    // already been claimed `max_attempts` times (0 = no limit): a job that kills the process
    // would otherwise be claimed first at every start and kill it again. Returns how many were
    // re-queued.
    virtual int recover_interrupted(int max_attempts) = 0;
    int recover_interrupted() { return recover_interrupted(0); }
};

} // namespace impasto::studio
