// Pairs to compare, votes, the Bradley-Terry ranking and their CSV exports.
#include "report/csv.h"
#include "server/http_util.h"
#include "server/job_view.h"
#include "server/ranking.h"
#include "server/routes.h"
#include "server/stored_json.h"
#include "server/studio_error.h"

#include <fmt/format.h>

namespace impasto::studio {

using nlohmann::json;

namespace {

// Rankings read every finished job; a studio's history is thousands of jobs at most.
constexpr int kMaxRankedJobs = 100000;
// Choosing a pair looks at every pair of candidates: the newest this many finished jobs (on the
// asked-for content) keep that to about 80,000 pairs per request.
constexpr int kMaxPairCandidates = 400;
// Each vote is read by every ranking and export; past this many the studio takes no more.
constexpr std::int64_t kMaxVotes = 100000;

std::vector<JobRecord> done_jobs(const StudioContext& context, int limit = kMaxRankedJobs,
                                 const std::string& content = "") {
    JobFilter filter;
    filter.state = JobState::Done;
    filter.limit = limit;
    filter.content_id = content;
    return context.queue.list(filter);
}

std::string stored_text(const JobRecord& job, const char* key) {
    const nlohmann::json request = parse_stored_json(job.request_json);
    return request.is_object() && request.contains(key) && request[key].is_string() ? request[key].get<std::string>()
                                                                                    : "";
}

json vote_json(const Vote& vote) {
    return {{"id", vote.id},
            {"a", vote.job_a},
            {"b", vote.job_b},
            {"winner", vote.winner},
            {"a_settings", vote.settings_a},
            {"b_settings", vote.settings_b},
            {"created_at", iso_time(vote.created_ms)}};
}

JobRecord require_done(const StudioContext& context, const json& body, const char* field) {
    if (!body.contains(field) || !body[field].is_string()) {
        throw StudioError(400, "bad_request", std::string(field) + ": expected a job id");
    }
    const std::string id = body[field].get<std::string>();
    const auto job = context.queue.get(id);
    if (!job) {
        throw StudioError(400, "bad_request", std::string(field) + ": no job with id '" + id + "'");
    }
    if (job->state != JobState::Done) {
        throw StudioError(400, "bad_request",
                          std::string(field) + ": job " + id + " is " + to_string(job->state) + ", not done");
    }
    return *job;
}

} // namespace

void add_vote_routes(httplib::Server& server, StudioContext& context) {
    server.Get("/api/compare/next", guarded([&context](const httplib::Request& req, httplib::Response& res) {
                   const std::string content = req.get_param_value("content");
                   const auto pair =
                       next_pair(done_jobs(context, kMaxPairCandidates, content), context.votes.all(), content);
                   if (!pair) {
                       throw StudioError(404, "not_found",
                                         "no pair to compare: it takes two finished jobs on the same content "
                                         "with different settings");
                   }
                   send_json(res, 200, json{{"a", job_json(pair->first)}, {"b", job_json(pair->second)}});
               }));
    server.Post("/api/votes", guarded([&context](const httplib::Request& req, httplib::Response& res) {
                    const json body = parse_json_body(req);
                    if (!body.is_object()) {
                        throw StudioError(400, "bad_request",
                                          R"(expected {"a": job id, "b": job id, "winner": "a" or "b"})");
                    }
                    const JobRecord a = require_done(context, body, "a");
                    const JobRecord b = require_done(context, body, "b");
                    const std::string winner =
                        body.contains("winner") && body["winner"].is_string() ? body["winner"].get<std::string>() : "";
                    if (winner != "a" && winner != "b") {
                        throw StudioError(400, "bad_request", R"(winner: expected "a" or "b")");
                    }
                    if (a.id == b.id || a.content_id != b.content_id) {
                        throw StudioError(400, "bad_request", "a and b must be two jobs on the same content");
                    }
                    Vote vote;
                    vote.job_a = a.id;
                    vote.job_b = b.id;
                    vote.winner = winner;
                    vote.settings_a = a.settings_key;
                    vote.settings_b = b.settings_key;
                    vote.label_a = stored_text(a, "label");
                    vote.label_b = stored_text(b, "label");
                    vote.method_a = stored_text(a, "method");
                    vote.method_b = stored_text(b, "method");
                    if (context.votes.count() >= kMaxVotes) {
                        throw StudioError(507, "storage_full",
                                          fmt::format("the studio holds {} votes, its limit; export them "
                                                      "(GET /api/votes.csv) and start a new data folder",
                                                      kMaxVotes));
                    }
                    send_json(res, 201, vote_json(context.votes.add(vote)));
                }));
    server.Get("/api/ranking", guarded([&context](const httplib::Request&, httplib::Response& res) {
                   const std::vector<Vote> votes = context.votes.all();
                   json items = json::array();
                   for (const RankedSettings& item : rank_settings(done_jobs(context), votes)) {
                       items.push_back({{"rank", item.rank},
                                        {"settings_key", item.settings_key},
                                        {"label", item.label},
                                        {"method", item.method},
                                        {"jobs", item.jobs},
                                        {"wins", item.wins},
                                        {"losses", item.losses},
                                        {"comparisons", item.wins + item.losses},
                                        {"strength", item.strength},
                                        {"score", item.score}});
                   }
                   send_json(res, 200, json{{"votes", votes.size()}, {"items", items}});
               }));
    server.Get("/api/votes.csv", guarded([&context](const httplib::Request&, httplib::Response& res) {
                   std::string csv = "id,created_at,a,b,winner,a_settings,b_settings\n";
                   for (const Vote& vote : context.votes.all()) {
                       csv += fmt::format("{},{},{},{},{},{},{}\n", vote.id,
                                          iso_time(vote.created_ms).get<std::string>(), vote.job_a, vote.job_b,
                                          vote.winner, csv_field(vote.settings_a), csv_field(vote.settings_b));
                   }
                   res.set_header("Content-Disposition", "attachment; filename=\"impasto-votes.csv\"");
                   res.set_content(csv, "text/csv; charset=utf-8");
               }));
    server.Get("/api/ranking.csv", guarded([&context](const httplib::Request&, httplib::Response& res) {
                   std::string csv = "rank,label,method,settings_key,jobs,wins,losses,comparisons,strength,score\n";
                   for (const RankedSettings& item : rank_settings(done_jobs(context), context.votes.all())) {
                       csv += fmt::format("{},{},{},{},{},{},{},{},{:.6g},{:.6g}\n", item.rank, csv_field(item.label),
                                          item.method, csv_field(item.settings_key), item.jobs, item.wins, item.losses,
                                          item.wins + item.losses, item.strength, item.score);
                   }
                   res.set_header("Content-Disposition", "attachment; filename=\"impasto-ranking.csv\"");
                   res.set_content(csv, "text/csv; charset=utf-8");
               }));
}

} // namespace impasto::studio
