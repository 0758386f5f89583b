// Requests that would exhaust the studio are refused with a JSON error while it keeps serving:
// deeply nested JSON on every route, too many queued jobs (in all and per client), too many stored
// bytes or uploads; uploads and results can be deleted, and a retention policy removes old and
// least-recently-used ones.
#include "studio_harness.h"

#include <gtest/gtest.h>

namespace impasto::e2e {
namespace {

void expect_json_error(const httplib::Result& result, const std::set<int>& statuses, const std::string& what) {
    ASSERT_TRUE(result) << what << ": no response (did the server die?)";
    EXPECT_EQ(statuses.count(result->status), 1U) << what << ": HTTP " << result->status << " " << result->body;
    const json body = body_json(result);
    ASSERT_TRUE(body.is_object() && body.contains("error")) << what << ": " << result->body.substr(0, 300);
    EXPECT_FALSE(body["error"].value("code", "").empty()) << what;
}

std::string nested_arrays(std::size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
}

std::string nested_objects(std::size_t depth) {
    std::string text;
    for (std::size_t i = 0; i < depth; ++i) {
        text += R"({"a":)";
    }
    return text + "1" + std::string(depth, '}');
}

class StudioLimits : public ::testing::Test {
  protected:
    void start(const std::vector<std::string>& extra = {}) {
        server_ = std::make_unique<StudioProcess>(temp_.path() / "data");
        ASSERT_NO_FATAL_FAILURE(server_->start(extra));
    }
    httplib::Client http() const { return server_->client(); }
    fs::path data() const { return temp_.path() / "data"; }

    TempDir temp_;
    std::unique_ptr<StudioProcess> server_;
};

TEST_F(StudioLimits, DeeplyNestedJsonIsRefusedOnEveryRouteAndTheServerKeepsServing) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto client = http();
    const std::string content = upload_id(client, 40, 32);
    const std::string deep_params = R"({"method":"optimisation","content":")" + content + R"(","styles":[")" + content +
                                    R"("],"params":{"style_layers":)" + nested_arrays(100000) + "}}";
    const std::string deep_vote =
        R"({"a":)" + nested_objects(60000) + R"(,"b":"j_000000000000000000000000","winner":"a"})";
    const std::vector<std::pair<std::string, std::string>> bodies{
        {"400 KB of nested [", nested_arrays(200000)},
        {"nested objects", nested_objects(60000)},
        {"deep params of a valid-looking job", deep_params},
        {"deep field of a valid-looking vote", deep_vote},
    };
    const std::string job = "/api/jobs/j_0123456789abcdef01234567";
    for (const auto& [name, body] : bodies) {
        for (const std::string& path : {std::string("/api/jobs"), std::string("/api/votes")}) {
            const std::string what = name + " to POST " + path;
            expect_json_error(client.Post(path, body, "application/json"), {400, 413}, what);
            ASSERT_TRUE(server_answers(client)) << "the server stopped answering after " << what;
        }
        // Routes that take no JSON must not be hurt by one either.
        for (const std::string& path : {std::string("/api/uploads"), job + "/cancel"}) {
            const auto reply = client.Post(path, body, "application/json");
            ASSERT_TRUE(reply) << name << " to POST " << path << ": no response";
            EXPECT_GE(reply->status, 400) << path;
            ASSERT_TRUE(server_answers(client)) << "the server stopped answering after " << name << " to " << path;
        }
    }
    // Small but deep: refused for its depth (400), not its size.
    for (const std::string& path : {std::string("/api/jobs"), std::string("/api/votes")}) {
        const auto reply = client.Post(path, nested_arrays(1000), "application/json");
        expect_json_error(reply, {400}, "2 KB of nesting to " + path);
        EXPECT_NE(body_json(reply)["error"].value("message", "").find("nest"), std::string::npos) << reply->body;
    }
    // A large flat body is refused for its size.
    expect_json_error(client.Post("/api/jobs", "[" + std::string(2'000'000, '1') + "]", "application/json"), {413},
                      "2 MB flat body");
    EXPECT_TRUE(server_answers(client));
}

// The slow job keeps the only worker busy, so later jobs stay queued.
json slow_optimisation(const std::string& content, const std::string& style) {
    return {{"method", "optimisation"},
            {"content", content},
            {"styles", {style}},
            {"params", {{"size", 64}, {"iterations", 5000}, {"schedule", ""}}}};
}

TEST_F(StudioLimits, QueuedJobsAreCappedInAllAndPerClient) {
    IMPASTO_REQUIRE_WEIGHTS();
    ASSERT_NO_FATAL_FAILURE(start({"--workers", "1", "--max-queued-jobs", "5", "--max-queued-per-client", "3"}));
    auto a = http();
    const std::string content = upload_id(a, 48, 40);
    const std::string style = upload_id(a, 40, 40);
    const std::string slow = submit(a, slow_optimisation(content, style)).value("id", "");
    wait_for_job(a, slow, {"running"});
    const json fast{{"method", "fast"}, {"content", content}, {"params", {{"size", 32}}}};
    for (int i = 0; i < 2; ++i) {
        submit(a, fast);
    }
    // Client A (127.0.0.1) has 3 jobs waiting or running: its fourth is refused.
    const auto refused = a.Post("/api/jobs", fast.dump(), "application/json");
    expect_json_error(refused, {429}, "client A's fourth job");
    EXPECT_EQ(body_json(refused)["error"].value("code", ""), "client_queue_full") << refused->body;

    // Client B (127.0.0.2) still may, until the queue as a whole holds 5.
    for (int i = 0; i < 2; ++i) {
        const RawReply reply = raw_request("127.0.0.2", server_->port(), "POST", "/api/jobs", fast.dump());
        EXPECT_EQ(reply.status, 202) << reply.body;
    }
    const RawReply full = raw_request("127.0.0.2", server_->port(), "POST", "/api/jobs", fast.dump());
    EXPECT_EQ(full.status, 429) << full.body;
    EXPECT_EQ(json::parse(full.body, nullptr, false)["error"].value("code", ""), "queue_full") << full.body;
    EXPECT_TRUE(server_answers(a));

    // Once the jobs have run, there is room again.
    a.Post("/api/jobs/" + slow + "/cancel", "", "application/json");
    wait_for_job(a, slow, {"cancelled"});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline &&
           body_json(a.Get("/api/info")).at("queue").value("queued", -1) != 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    submit(a, fast);
}

TEST_F(StudioLimits, StoredBytesAndUploadsAreCapped) {
    ASSERT_NO_FATAL_FAILURE(start({"--max-stored-mb", "2"}));
    auto client = http();
    // Each upload is about 600 KB: three fit in 2 MiB, the fourth does not.
    std::vector<std::string> ids;
    for (unsigned seed = 1; seed <= 3; ++seed) {
        const auto reply = upload(client, noise_png(450, 450, seed));
        ASSERT_TRUE(reply && reply->status == 201) << (reply ? reply->body : "no response");
        ids.push_back(body_json(reply).value("id", ""));
    }
    const auto refused = upload(client, noise_png(450, 450, 4));
    expect_json_error(refused, {507}, "an upload over the byte limit");
    EXPECT_EQ(body_json(refused)["error"].value("code", ""), "storage_full");
    EXPECT_EQ(list_dir(data() / "uploads").size(), 6U) << joined(list_dir(data() / "uploads"));
    EXPECT_EQ(server_->stop(), 0);

    // Over the limit (lowered to 1 MiB), jobs are refused too, until deleting frees room.
    ASSERT_NO_FATAL_FAILURE(server_->start({"--max-stored-mb", "1", "--max-uploads", "3"}));
    auto restarted = http();
    const json job{{"method", "fast"}, {"content", ids[0]}, {"params", {{"size", 32}}}};
    expect_json_error(restarted.Post("/api/jobs", job.dump(), "application/json"), {507}, "a job over the byte limit");
    expect_json_error(upload(restarted, png_bytes(testing::gradient_image(20, 20))), {507}, "a small upload when full");
    for (const std::string& id : {ids[1], ids[2]}) {
        const auto deleted = restarted.Delete("/api/uploads/" + id);
        ASSERT_TRUE(deleted && deleted->status == 200) << (deleted ? deleted->body : "no response");
    }
    submit(restarted, job);
    EXPECT_TRUE(upload(restarted, png_bytes(testing::gradient_image(20, 20)))->status == 201);
    EXPECT_TRUE(upload(restarted, png_bytes(testing::gradient_image(21, 20)))->status == 201);
    // --max-uploads 3: a fourth distinct upload is refused, the same bytes again are not.
    expect_json_error(upload(restarted, png_bytes(testing::gradient_image(22, 20))), {507}, "a fourth upload");
    EXPECT_EQ(upload(restarted, png_bytes(testing::gradient_image(20, 20)))->status, 201);
    const json storage = body_json(restarted.Get("/api/storage"));
    EXPECT_EQ(storage.value("max_stored_bytes", 0), 1024 * 1024) << storage.dump();
    EXPECT_EQ(storage.value("uploads", 0), 3) << storage.dump();
    EXPECT_GT(storage.value("used_bytes", 0), 0) << storage.dump();
}

TEST_F(StudioLimits, UploadsAndJobsCanBeDeletedWithoutBreakingTheRanking) {
    IMPASTO_REQUIRE_WEIGHTS();
    ASSERT_NO_FATAL_FAILURE(start({"--workers", "1"}));
    auto client = http();
    const std::string content = upload_id(client, 48, 48);
    const std::string style = upload_id(client, 40, 40);
    const std::string small =
        submit(client, {{"method", "fast"}, {"content", content}, {"params", {{"size", 32}}}}).value("id", "");
    const std::string large =
        submit(client, {{"method", "fast"}, {"content", content}, {"params", {{"size", 64}}}}).value("id", "");
    ASSERT_EQ(wait_for_job(client, small, {"done", "failed"}).value("state", ""), "done");
    ASSERT_EQ(wait_for_job(client, large, {"done", "failed"}).value("state", ""), "done");
    const auto vote =
        client.Post("/api/votes", json{{"a", small}, {"b", large}, {"winner", "a"}}.dump(), "application/json");
    ASSERT_TRUE(vote && vote->status == 201);

    const auto deleted = client.Delete("/api/jobs/" + small);
    ASSERT_TRUE(deleted) << "no response";
    EXPECT_EQ(deleted->status, 200) << deleted->body;
    EXPECT_EQ(body_json(deleted).value("deleted", false), true) << deleted->body;
    EXPECT_EQ(client.Get("/api/jobs/" + small)->status, 404);
    EXPECT_EQ(client.Get("/api/jobs/" + small + "/image")->status, 404);
    EXPECT_FALSE(fs::exists(data() / "results" / (small + ".png")));
    EXPECT_FALSE(fs::exists(data() / "results" / (small + ".json")));
    const auto again = client.Delete("/api/jobs/" + small);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 200) << "deleting twice is not an error";
    EXPECT_EQ(body_json(again).value("deleted", true), false) << again->body;

    // The vote still counts, under the deleted job's label.
    const json ranking = body_json(client.Get("/api/ranking"));
    EXPECT_EQ(ranking.value("votes", 0), 1);
    ASSERT_EQ(ranking.at("items").size(), 2U) << ranking.dump();
    EXPECT_EQ(ranking.at("items")[0].value("wins", 0), 1);
    EXPECT_NE(ranking.at("items")[0].value("label", "").find("size 32"), std::string::npos) << ranking.dump();
    EXPECT_EQ(client.Get("/api/votes.csv")->status, 200);
    EXPECT_EQ(client.Get("/api/compare/next")->status, 404) << "one finished job is left: no pair";

    // A running job, and an upload a running job uses, are not deleted.
    const std::string slow = submit(client, slow_optimisation(content, style)).value("id", "");
    wait_for_job(client, slow, {"running"});
    expect_json_error(client.Delete("/api/jobs/" + slow), {409}, "deleting a running job");
    expect_json_error(client.Delete("/api/uploads/" + style), {409}, "deleting an upload in use");
    client.Post("/api/jobs/" + slow + "/cancel", "", "application/json");
    wait_for_job(client, slow, {"cancelled"});
    const auto removed = client.Delete("/api/uploads/" + style);
    ASSERT_TRUE(removed && removed->status == 200) << (removed ? removed->body : "no response");
    EXPECT_EQ(client.Get("/api/images/" + style)->status, 404);
    for (const std::string& name : list_dir(data() / "uploads")) {
        EXPECT_EQ(name.find(style), std::string::npos) << name;
    }
    EXPECT_EQ(body_json(client.Delete("/api/uploads/" + style)).value("deleted", true), false);
    // Results made from a deleted upload stay.
    EXPECT_EQ(client.Get("/api/jobs/" + large + "/image")->status, 200);
    EXPECT_EQ(client.Delete("/api/uploads/not-an-id!")->status, 404);
    EXPECT_TRUE(server_answers(client));
}

// Every ranking and export reads all votes: past 100,000 the studio takes no more.
TEST_F(StudioLimits, VotesAreCapped) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto client = http();
    const std::string content = upload_id(client, 48, 40);
    const std::string a =
        submit(client, {{"method", "fast"}, {"content", content}, {"params", {{"size", 32}}}}).value("id", "");
    const std::string b =
        submit(client, {{"method", "fast"}, {"content", content}, {"params", {{"size", 40}}}}).value("id", "");
    ASSERT_EQ(wait_for_job(client, a, {"done", "failed"}).value("state", ""), "done");
    ASSERT_EQ(wait_for_job(client, b, {"done", "failed"}).value("state", ""), "done");
    const std::string vote = json{{"a", a}, {"b", b}, {"winner", "a"}}.dump();
    ASSERT_EQ(client.Post("/api/votes", vote, "application/json")->status, 201);
    sql(data() / "studio.sqlite3", "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 99999) "
                                   "INSERT INTO votes (id, job_a, job_b, winner, settings_a, settings_b, created_ms) "
                                   "SELECT 'v_' || i, 'j_a', 'j_b', 'a', 's_a', 's_b', 1 FROM n");
    expect_json_error(client.Post("/api/votes", vote, "application/json"), {507}, "vote 100,001");
    EXPECT_EQ(body_json(client.Get("/api/ranking")).value("votes", 0), 100000);
    EXPECT_TRUE(server_answers(client));
}

TEST_F(StudioLimits, RetentionRemovesWhatWasNotUsedForDaysAtStartUp) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto client = http();
    const std::string old_upload = upload_id(client, 40, 40);
    const std::string fresh_upload = upload_id(client, 44, 40);
    const std::string old_job =
        submit(client, {{"method", "fast"}, {"content", old_upload}, {"params", {{"size", 32}}}}).value("id", "");
    const std::string fresh_job =
        submit(client, {{"method", "fast"}, {"content", fresh_upload}, {"params", {{"size", 32}}}}).value("id", "");
    ASSERT_EQ(wait_for_job(client, old_job, {"done", "failed"}).value("state", ""), "done");
    ASSERT_EQ(wait_for_job(client, fresh_job, {"done", "failed"}).value("state", ""), "done");
    EXPECT_EQ(server_->stop(), 0);
    for (const std::string& name : list_dir(data() / "uploads")) {
        if (name.rfind(old_upload, 0) == 0) {
            age_file(data() / "uploads" / name, 10);
        }
    }
    age_file(data() / "results" / (old_job + ".png"), 10);
    age_file(data() / "results" / (old_job + ".json"), 10);

    ASSERT_NO_FATAL_FAILURE(server_->start({"--keep-days", "7"}));
    auto restarted = http();
    EXPECT_EQ(restarted.Get("/api/images/" + old_upload)->status, 404);
    EXPECT_EQ(restarted.Get("/api/jobs/" + old_job)->status, 404);
    EXPECT_FALSE(fs::exists(data() / "results" / (old_job + ".png")));
    EXPECT_EQ(restarted.Get("/api/images/" + fresh_upload)->status, 200);
    EXPECT_EQ(restarted.Get("/api/jobs/" + fresh_job + "/image")->status, 200);
}

TEST_F(StudioLimits, AByteBudgetEvictsTheLeastRecentlyUsed) {
    ASSERT_NO_FATAL_FAILURE(start({"--keep-mb", "1"}));
    auto client = http();
    const auto first = upload(client, noise_png(260, 260, 1)); // about 200 KB each
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto second = upload(client, noise_png(260, 260, 2));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(first && second && first->status == 201 && second->status == 201);
    const std::string first_id = body_json(first).value("id", "");
    const std::string second_id = body_json(second).value("id", "");
    // Using the first makes the second the least recently used.
    EXPECT_EQ(client.Get("/api/images/" + first_id)->status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::vector<std::string> later;
    for (unsigned seed = 3; seed <= 6; ++seed) {
        const auto reply = upload(client, noise_png(260, 260, seed));
        ASSERT_TRUE(reply && reply->status == 201) << (reply ? reply->body : "no response");
        later.push_back(body_json(reply).value("id", ""));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    // 6 x 200 KB is over 1 MiB: the least recently used goes, the rest stay. (The list is read,
    // not the image: reading it would count as a use.)
    const auto listed = [&client](const std::string& id) {
        const json images = body_json(client.Get("/api/images"));
        for (const json& item : images.at("uploads")) {
            if (item.value("id", "") == id) {
                return true;
            }
        }
        return false;
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline && listed(second_id)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_FALSE(listed(second_id)) << "the least recently used upload was kept";
    EXPECT_EQ(client.Get("/api/images/" + second_id)->status, 404);
    EXPECT_TRUE(listed(later.back())) << body_json(client.Get("/api/images")).dump() << "\n"
                                      << body_json(client.Get("/api/storage")).dump() << "\n"
                                      << joined(list_dir(data() / "uploads")) << "\nlast: " << later.back();
    const json storage = body_json(client.Get("/api/storage"));
    EXPECT_LE(storage.value("used_bytes", 0), 1024 * 1024) << storage.dump();
}

} // namespace
} // namespace impasto::e2e
