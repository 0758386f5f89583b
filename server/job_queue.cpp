#include "server/job_queue.h"

#include "impasto/error.h"

namespace impasto::studio {

const char* to_string(JobState state) {
    switch (state) {
    case JobState::Queued:
        return "queued";
    case JobState::Running:
        return "running";
    case JobState::Done:
        return "done";
    case JobState::Failed:
        return "failed";
    case JobState::Cancelled:
        return "cancelled";
    }
    return "unknown";
}

std::optional<JobState> parse_job_state(const std::string& text) {
    for (const JobState state :
         {JobState::Queued, JobState::Running, JobState::Done, JobState::Failed, JobState::Cancelled}) {
        if (text == to_string(state)) {
            return state;
        }
    }
    return std::nullopt;
}

JobRecord JobQueue::submit(const JobRecord& record) {
    const SubmitResult result = submit(record, SubmitLimits{});
    if (result.outcome == SubmitOutcome::KeyConflict) {
        throw ConfigError("submitting a job: the idempotency key '" + record.idempotency_key + "' already names job '" +
                          result.job.id + "' with another request");
    }
    return result.job;
}

bool is_terminal(JobState state) {
    return state == JobState::Done || state == JobState::Failed || state == JobState::Cancelled;
}

} // namespace impasto::studio
