#include "server/ranking.h"

#include "server/bradley_terry.h"
#include "server/stored_json.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

namespace impasto::studio {

using nlohmann::json;

namespace {

std::string text_field(const json& object, const char* key, const std::string& fallback) {
    const auto found = object.find(key);
    return found != object.end() && found->is_string() ? found->get<std::string>() : fallback;
}

} // namespace

std::vector<RankedSettings> rank_settings(const std::vector<JobRecord>& done_jobs, const std::vector<Vote>& votes) {
    std::map<std::string, int> index;
    std::vector<RankedSettings> items;
    auto item_for = [&](const std::string& key) -> int {
        const auto found = index.find(key);
        if (found != index.end()) {
            return found->second;
        }
        RankedSettings item;
        item.settings_key = key;
        item.label = key;
        items.push_back(item);
        index[key] = static_cast<int>(items.size()) - 1;
        return index[key];
    };
    for (const JobRecord& job : done_jobs) {
        RankedSettings& item = items[static_cast<std::size_t>(item_for(job.settings_key))];
        ++item.jobs;
        const json request = parse_stored_json(job.request_json);
        if (request.is_object()) {
            item.label = text_field(request, "label", item.label);
            item.method = text_field(request, "method", item.method);
        }
    }
    // Settings whose jobs were all deleted keep the names their votes recorded.
    const auto name_from_vote = [&](int position, const std::string& label, const std::string& method) {
        RankedSettings& item = items[static_cast<std::size_t>(position)];
        if (item.jobs == 0 && item.label == item.settings_key && !label.empty()) {
            item.label = label;
            item.method = method;
        }
    };
    std::vector<PairOutcome> outcomes;
    for (const Vote& vote : votes) {
        const int a = item_for(vote.settings_a);
        const int b = item_for(vote.settings_b);
        name_from_vote(a, vote.label_a, vote.method_a);
        name_from_vote(b, vote.label_b, vote.method_b);
        if (a == b) {
            continue; // the same settings on both sides says nothing about them
        }
        outcomes.push_back(vote.winner == "a" ? PairOutcome{a, b} : PairOutcome{b, a});
    }
    const BradleyTerryFit fit = fit_bradley_terry(static_cast<int>(items.size()), outcomes);
    for (std::size_t i = 0; i < items.size(); ++i) {
        items[i].strength = fit.strength[i];
        items[i].score = std::log(fit.strength[i]);
        items[i].wins = fit.wins[i];
        items[i].losses = fit.losses[i];
    }
    std::stable_sort(items.begin(), items.end(), [](const RankedSettings& a, const RankedSettings& b) {
        const bool a_rated = a.wins + a.losses > 0;
        const bool b_rated = b.wins + b.losses > 0;
        if (a_rated != b_rated) {
            return a_rated;
        }
        return a.strength > b.strength;
    });
    for (std::size_t i = 0; i < items.size(); ++i) {
        items[i].rank = static_cast<int>(i) + 1;
    }
    return items;
}

std::optional<std::pair<JobRecord, JobRecord>>
next_pair(const std::vector<JobRecord>& done_jobs, const std::vector<Vote>& votes, const std::string& content_id) {
    std::map<std::pair<std::string, std::string>, int> compared;
    for (const Vote& vote : votes) {
        ++compared[std::minmax(vote.job_a, vote.job_b)];
    }
    static thread_local std::mt19937 generator{std::random_device{}()};
    std::optional<std::pair<JobRecord, JobRecord>> best;
    int best_count = 0;
    int ties = 0;
    for (std::size_t i = 0; i < done_jobs.size(); ++i) {
        for (std::size_t j = i + 1; j < done_jobs.size(); ++j) {
            const JobRecord& a = done_jobs[i];
            const JobRecord& b = done_jobs[j];
            if (a.content_id != b.content_id || a.settings_key == b.settings_key ||
                (!content_id.empty() && a.content_id != content_id)) {
                continue;
            }
            const auto found = compared.find(std::minmax(a.id, b.id));
            const int count = found == compared.end() ? 0 : found->second;
            if (!best || count < best_count) {
                best = std::make_pair(a, b);
                best_count = count;
                ties = 1;
            } else if (count == best_count) {
                // Reservoir sampling: each of the least-compared pairs is equally likely.
                ++ties;
                if (std::uniform_int_distribution<int>(1, ties)(generator) == 1) {
                    best = std::make_pair(a, b);
                }
            }
        }
    }
    if (best && std::uniform_int_distribution<int>(0, 1)(generator) == 1) {
        std::swap(best->first, best->second);
    }
    return best;
}

} // namespace impasto::studio
