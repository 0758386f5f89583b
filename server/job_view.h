#pragma once
// The JSON a client sees of a job (GET /api/jobs/{id}, the `state` event): one function, so the
// routes and the workers' events always agree.
#include "server/job_queue.h"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace impasto::studio {

nlohmann::json job_json(const JobRecord& record);
// "2026-11-26T23:59:01Z", or null for 0.
nlohmann::json iso_time(std::int64_t unix_ms);
std::int64_t unix_ms_now();
// "j_" + 24 random hex digits.
std::string new_job_id();

} // namespace impasto::studio
