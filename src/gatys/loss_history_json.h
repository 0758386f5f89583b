#pragma once
// One JSON form of a loss history, shared by the sidecar, the study cache and the study report.
#include "impasto/error.h"
#include "impasto/stylize.h"
#include "io/json_numbers.h"

#include <nlohmann/json.hpp>
#include <vector>

namespace impasto {

inline nlohmann::json loss_history_json(const std::vector<LossRecord>& history) {
    nlohmann::json out = nlohmann::json::array();
    for (const LossRecord& entry : history) {
        out.push_back({{"scale", entry.scale_index},
                       {"iteration", entry.iteration},
                       {"content", entry.losses.content},
                       {"style", entry.losses.style},
                       {"tv", entry.losses.tv},
                       {"total", entry.losses.total},
                       {"seconds", entry.elapsed_seconds}});
    }
    return out;
}

// Throws nlohmann::json::exception when an entry lacks a field, InputError when a count does not fit.
inline std::vector<LossRecord> loss_history_from_json(const nlohmann::json& json) {
    std::vector<LossRecord> history;
    for (const nlohmann::json& entry : json) {
        LossRecord record;
        const auto scale = io::whole_number(entry.at("scale"), 0, kMaxScheduleSteps);
        const auto iteration = io::whole_number(entry.at("iteration"), 0, kMaxIterations);
        if (!scale || !iteration) {
            throw InputError("loss history: scale or iteration is not a whole number in range");
        }
        record.scale_index = static_cast<int>(*scale);
        record.iteration = static_cast<int>(*iteration);
        record.losses.content = entry.at("content").get<double>();
        record.losses.style = entry.at("style").get<double>();
        record.losses.tv = entry.at("tv").get<double>();
        record.losses.total = entry.at("total").get<double>();
        record.elapsed_seconds = entry.at("seconds").get<double>();
        history.push_back(record);
    }
    return history;
}

} // namespace impasto
