#pragma once
// Rankings of settings from 2AFC votes: which pair to show next, and the Bradley-Terry table.
#include "server/job_queue.h"
#include "server/vote_store.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace impasto::studio {

struct RankedSettings {
    int rank = 0;
    std::string settings_key;
    std::string label;
    std::string method;
    int jobs = 0; // finished jobs with these settings
    int wins = 0;
    int losses = 0;
    double strength = 1; // Bradley-Terry, geometric mean 1 over the ranked settings
    double score = 0;    // log strength
};

// Every setting of a finished job, best first; settings without votes rank after those with.
std::vector<RankedSettings> rank_settings(const std::vector<JobRecord>& done_jobs, const std::vector<Vote>& votes);

// Two finished jobs on one content with different settings: the pair compared least so far,
// ties broken at random, and shown in random order. `content_id` "" = any content.
std::optional<std::pair<JobRecord, JobRecord>> next_pair(const std::vector<JobRecord>& done_jobs,
                                                         const std::vector<Vote>& votes, const std::string& content_id);

} // namespace impasto::studio
