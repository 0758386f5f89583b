#pragma once
// Two-alternative forced-choice votes between results, kept beside the job queue.
#include <cstdint>
#include <string>
#include <vector>

namespace impasto::studio {

struct Vote {
    std::string id;    // "v_" + random hex, set by the store
    std::string job_a; // the two jobs shown
    std::string job_b;
    std::string winner;     // "a" or "b"
    std::string settings_a; // settings_key of each job, stored so rankings survive job deletion
    std::string settings_b;
    // What the settings are called and their method, kept so a ranking still names them after
    // every job with those settings is deleted. "" for votes stored before they were kept.
    std::string label_a;
    std::string label_b;
    std::string method_a;
    std::string method_b;
    std::int64_t created_ms = 0;
};

class VoteStore {
  public:
    virtual ~VoteStore() = default;
    // Stores the vote (id and created_ms set here) and returns it as stored.
    virtual Vote add(const Vote& vote) = 0;
    virtual std::vector<Vote> all() const = 0; // oldest first
    virtual std::int64_t count() const = 0;
    // How many votes compared these two jobs (either order).
    virtual std::int64_t count_between(const std::string& job_a, const std::string& job_b) const = 0;
};

} // namespace impasto::studio
