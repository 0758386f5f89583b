// The studio's HTTP API against the real `impasto serve`: uploads good and bad, limits, path
// traversal, CORS, tokens, jobs end to end, cancelling part-way, events, votes and ranking.
#include "studio_fixture.h"

#include <gtest/gtest.h>

namespace impasto::e2e {
namespace {

class StudioApi : public ::testing::Test {
  protected:
    void start(const std::vector<std::string>& extra = {}) {
        server_ = std::make_unique<StudioProcess>(temp_.path() / "data");
        ASSERT_NO_FATAL_FAILURE(server_->start(extra));
    }
    httplib::Client http() const { return server_->client(); }

    TempDir temp_;
    std::unique_ptr<StudioProcess> server_;
};

void expect_json_error(const httplib::Result& result, int status, const std::string& code) {
    ASSERT_TRUE(result) << "no response";
    EXPECT_EQ(result->status, status) << result->body;
    const json body = body_json(result);
    ASSERT_TRUE(body.is_object() && body.contains("error")) << result->body;
    EXPECT_EQ(body["error"].value("code", ""), code) << result->body;
    EXPECT_FALSE(body["error"].value("message", "").empty());
}

TEST_F(StudioApi, InfoDefaultsAndThePageAreServed) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto client = http();
    const json info = body_json(client.Get("/api/info"));
    EXPECT_EQ(info.value("token_required", true), false);
    EXPECT_GT(info.at("limits").value("max_upload_bytes", 0), 0);
    const json defaults = body_json(client.Get("/api/defaults"));
    EXPECT_EQ(defaults.at("optimisation").at("defaults").value("preset", ""), "default");
    EXPECT_TRUE(defaults.at("optimisation").at("presets").contains("paper"));
    EXPECT_TRUE(defaults.at("fast").value("available", false)) << "the committed models should be offered";
    const auto page = client.Get("/");
    ASSERT_TRUE(page);
    EXPECT_EQ(page->status, 200);
    EXPECT_NE(page->get_header_value("Content-Type").find("text/html"), std::string::npos);
    EXPECT_NE(page->body.find("<script"), std::string::npos);
}

TEST_F(StudioApi, UploadIsCheckedByContentAndStoredOnce) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto client = http();
    const std::string png = png_bytes(testing::gradient_image(40, 30));
    const json first = body_json(upload(client, png, "holiday.jpg", "image/jpeg")); // name and type lie
    EXPECT_EQ(first.value("format", ""), "PNG");
    EXPECT_EQ(first.value("width", 0), 40);
    EXPECT_EQ(first.value("height", 0), 30);
    EXPECT_EQ(first.value("id", "").rfind("u_", 0), 0U);
    const json again = body_json(upload(client, png, "other.png"));
    EXPECT_EQ(again.value("id", ""), first.value("id", "x"));

    const auto bytes = client.Get("/api/images/" + first.value("id", ""));
    ASSERT_TRUE(bytes);
    EXPECT_EQ(bytes->body, png);
    const auto thumb = client.Get("/api/images/" + first.value("id", "") + "?size=16");
    ASSERT_TRUE(thumb);
    EXPECT_EQ(thumb->get_header_value("Content-Type"), "image/jpeg");
    const json images = body_json(client.Get("/api/images"));
    ASSERT_EQ(images.at("uploads").size(), 1U);
    EXPECT_TRUE(images.at("gallery").empty());
}

TEST_F(StudioApi, BadUploadsAreRefusedWithJsonErrors) {
    ASSERT_NO_FATAL_FAILURE(start({"--max-upload-mb", "0.05", "--max-pixels", "5000"}));
    auto client = http();
    expect_json_error(upload(client, "this is not an image at all", "photo.png"), 400, "bad_image");
    expect_json_error(upload(client, "", "empty.png"), 400, "bad_image");
    const std::string png = png_bytes(testing::gradient_image(60, 60));
    expect_json_error(upload(client, png.substr(0, png.size() / 2), "half.png"), 400, "bad_image");
    expect_json_error(upload(client, png_bytes(testing::gradient_image(100, 80))), 400, "too_many_pixels");
    std::string big(80 * 1024, '\0');
    std::copy(png.begin(), png.end(), big.begin()); // a PNG signature, then far too many bytes
    expect_json_error(upload(client, big, "big.png"), 413, "too_large");
    expect_json_error(client.Post("/api/uploads", "{}", "application/json"), 400, "bad_request");
    // Nothing half-stored: only the finished uploads' files are in the folder.
    const json images = body_json(client.Get("/api/images"));
    EXPECT_TRUE(images.at("uploads").empty());
    for (const auto& entry : fs::directory_iterator(server_->data_dir() / "uploads")) {
        ADD_FAILURE() << "left in uploads/: " << entry.path();
    }
}

TEST_F(StudioApi, NoRequestPathReachesTheFilesystem) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto client = http();
    const std::vector<std::string> attempts{
        "/api/images/..%2F..%2F..%2Fetc%2Fpasswd",
        "/api/images/../../../etc/passwd",
        "/api/images/%2e%2e%2fstudio.sqlite3",
        "/assets/../../CMakeLists.txt",
        "/assets/..%2F..%2FCMakeLists.txt",
        "/../../../../etc/passwd",
        "/api/jobs/j_000000000000000000000000/../../studio.sqlite3",
        "/api/jobs/..%2Fstudio.sqlite3/image",
        "/api/images/u_" + std::string(24, '0'),
        "/index.html/../../etc/passwd",
    };
    for (const std::string& path : attempts) {
        const auto result = client.Get(path);
        ASSERT_TRUE(result) << path;
        EXPECT_TRUE(result->status == 404 || result->status == 400) << path << " gave " << result->status;
        EXPECT_EQ(result->body.find("root:"), std::string::npos) << path;
        EXPECT_EQ(result->body.find("SQLite format"), std::string::npos) << path;
        EXPECT_EQ(result->body.find("cmake_minimum_required"), std::string::npos) << path;
    }
    const std::string content = upload_id(client, 32, 32);
    for (const std::string& bad : {"../../etc/passwd", "/etc/passwd", "u_../x", "g_..", "s_%2e%2e"}) {
        const json job{{"method", "arbitrary"}, {"content", content}, {"styles", {bad}}};
        expect_json_error(client.Post("/api/jobs", job.dump(), "application/json"), 400, "bad_request");
    }
}

TEST_F(StudioApi, CorsIsClosedAndForeignOriginsAreRefused) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto client = http();
    const auto preflight =
        client.Options("/api/jobs", {{"Origin", "http://evil.example"}, {"Access-Control-Request-Method", "POST"}});
    ASSERT_TRUE(preflight);
    EXPECT_EQ(preflight->status, 403);
    EXPECT_FALSE(preflight->has_header("Access-Control-Allow-Origin"));
    const auto post = client.Post("/api/votes", {{"Origin", "http://evil.example"}}, "{}", "application/json");
    expect_json_error(post, 403, "forbidden");
    const auto get = client.Get("/api/info", {{"Origin", "http://evil.example"}});
    ASSERT_TRUE(get);
    EXPECT_FALSE(get->has_header("Access-Control-Allow-Origin"));
    const auto rebound = client.Get("/api/info", {{"Host", "attacker.example:80"}});
    expect_json_error(rebound, 403, "forbidden");
}

TEST_F(StudioApi, ATokenIsRequiredOnEveryRequestWhenSet) {
    ASSERT_NO_FATAL_FAILURE(start({"--token", "s3cret-token"}));
    auto client = http();
    expect_json_error(client.Get("/api/info"), 401, "unauthorized");
    expect_json_error(client.Get("/"), 401, "unauthorized");
    expect_json_error(client.Get("/api/info", {{"Authorization", "Bearer wrong-token!"}}), 401, "unauthorized");
    const auto bearer = client.Get("/api/info", {{"Authorization", "Bearer s3cret-token"}});
    ASSERT_TRUE(bearer);
    EXPECT_EQ(bearer->status, 200);
    EXPECT_TRUE(body_json(bearer).value("token_required", false));
    // ?token= opens the page once: it becomes a cookie, and the address loses it.
    const auto query = client.Get("/?token=s3cret-token");
    ASSERT_TRUE(query);
    EXPECT_EQ(query->status, 303);
    EXPECT_EQ(query->get_header_value("Location"), "/");
    const std::string cookie = query->get_header_value("Set-Cookie");
    const auto page = client.Get("/", {{"Cookie", cookie.substr(0, cookie.find(';'))}});
    ASSERT_TRUE(page);
    EXPECT_EQ(page->status, 200);
    expect_json_error(client.Get("/api/info?token=s3cret-token"), 401, "unauthorized");
}

TEST(StudioServe, AnAddressOtherThanLoopbackNeedsAToken) {
    TempDir temp;
    const CliRun run =
        run_cli("serve --host 0.0.0.0 --port 0 --gallery none --data " + shell_quote((temp.path() / "data").string()),
                temp.path());
    expect_one_line_error(run, 2, "--token");
}

TEST_F(StudioApi, BadJobRequestsNameTheProblem) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto client = http();
    const std::string content = upload_id(client, 32, 32);
    auto post = [&](const std::string& body) { return client.Post("/api/jobs", body, "application/json"); };
    expect_json_error(post("{not json"), 400, "bad_request");
    expect_json_error(post(json{{"method", "magic"}, {"content", content}}.dump()), 400, "bad_request");
    expect_json_error(post(json{{"method", "fast"}, {"content", "u_nope"}}.dump()), 400, "bad_request");
    const auto unknown = post(json{{"method", "fast"}, {"content", content}, {"params", {{"colour", "x"}}}}.dump());
    expect_json_error(unknown, 400, "bad_request");
    EXPECT_NE(unknown->body.find("colour"), std::string::npos);
    const auto range = post(
        json{{"method", "optimisation"}, {"content", content}, {"styles", {content}}, {"params", {{"size", 999999}}}}
            .dump());
    expect_json_error(range, 400, "bad_request");
    EXPECT_NE(range->body.find("size"), std::string::npos);
    expect_json_error(
        post(json{
            {"method", "optimisation"}, {"content", content}, {"styles", {content}}, {"params", {{"style_weight", -1}}}}
                 .dump()),
        400, "config");
    expect_json_error(client.Get("/api/jobs/j_0123456789abcdef01234567"), 404, "not_found");
    expect_json_error(client.Get("/api/no/such/route"), 404, "not_found");
}

TEST_F(StudioApi, AFastJobRunsToAResultWithItsSidecar) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto client = http();
    const std::string content = upload_id(client, 72, 48);
    const std::string model = first_fast_model(client);
    ASSERT_FALSE(model.empty());
    const json queued = submit(client, {{"method", "fast"}, {"content", content}, {"params", {{"precision", "fp32"}}}});
    EXPECT_EQ(queued.value("state", ""), "queued");
    const std::string id = queued.value("id", "");
    EXPECT_TRUE(std::regex_match(id, std::regex("j_[0-9a-f]{24}"))) << id;
    const json done = wait_for_job(client, id, {"done", "failed"});
    ASSERT_EQ(done.value("state", ""), "done") << done.dump();
    EXPECT_EQ(done.at("params").value("model", ""), model);
    EXPECT_EQ(done.at("result").value("width", 0), 72);

    const auto image = client.Get("/api/jobs/" + id + "/image?download=1");
    ASSERT_TRUE(image);
    EXPECT_EQ(image->status, 200);
    EXPECT_NE(image->get_header_value("Content-Disposition").find("attachment"), std::string::npos);
    const fs::path saved = temp_.path() / "result.png";
    write_text(saved, image->body);
    const Image decoded = load_image(saved);
    EXPECT_EQ(decoded.width, 72);
    EXPECT_EQ(decoded.height, 48);
    const json sidecar = body_json(client.Get("/api/jobs/" + id + "/sidecar"));
    EXPECT_EQ(sidecar.at("studio").value("job", ""), id);
    EXPECT_EQ(sidecar.at("studio").at("params").value("model", ""), model);
    EXPECT_TRUE(sidecar.contains("impasto_version"));
    expect_json_error(client.Post("/api/jobs/" + id + "/cancel", "", "application/json"), 409, "conflict");
}

TEST_F(StudioApi, AnOptimisationStreamsProgressAndPreviewsAndCanBeCancelledPartWay) {
    IMPASTO_REQUIRE_WEIGHTS();
    ASSERT_NO_FATAL_FAILURE(start({"--preview-every", "2"}));
    auto client = http();
    const std::string content = upload_id(client, 64, 48);
    const std::string style = upload_id(client, 48, 48);
    const json job = submit(client, {{"method", "optimisation"},
                                     {"content", content},
                                     {"styles", {style}},
                                     {"params", {{"size", 64}, {"iterations", 2000}, {"schedule", ""}}}});
    const std::string id = job.value("id", "");

    // Read the event stream until a few progress events and a preview have come, then cancel.
    std::string stream;
    int progress_events = 0;
    int previews = 0;
    bool cancelled = false;
    auto events = http();
    const auto result = events.Get("/api/jobs/" + id + "/events", [&](const char* data, std::size_t size) {
        stream.append(data, size);
        progress_events = 0;
        previews = 0;
        for (std::size_t at = stream.find("event: progress"); at != std::string::npos;
             at = stream.find("event: progress", at + 1)) {
            ++progress_events;
        }
        for (std::size_t at = stream.find("event: preview"); at != std::string::npos;
             at = stream.find("event: preview", at + 1)) {
            ++previews;
        }
        if (!cancelled && progress_events >= 6 && previews >= 1) {
            cancelled = true;
            auto other = http();
            const auto reply = other.Post("/api/jobs/" + id + "/cancel", "", "application/json");
            EXPECT_TRUE(reply && reply->status == 200) << (reply ? reply->body : "no response");
        }
        return true; // the server ends the stream after the final state
    });
    ASSERT_TRUE(result) << "event stream failed";
    EXPECT_EQ(result->get_header_value("Content-Type"), "text/event-stream");
    EXPECT_TRUE(cancelled) << stream.substr(0, 2000);
    EXPECT_NE(stream.find("\"state\":\"running\""), std::string::npos);
    EXPECT_NE(stream.find("\"state\":\"cancelled\""), std::string::npos) << stream.substr(stream.size() - 1000);

    const json final_job = wait_for_job(client, id, {"cancelled", "done", "failed"});
    EXPECT_EQ(final_job.value("state", ""), "cancelled");
    const int reached = final_job.at("progress").value("iteration", 0);
    EXPECT_GT(reached, 0);
    EXPECT_LT(reached, 2000) << "the job should stop part-way";
    expect_json_error(client.Get("/api/jobs/" + id + "/image"), 404, "not_found");
    expect_json_error(client.Post("/api/jobs/" + id + "/cancel", "", "application/json"), 409, "conflict");
}

// The studio runs the library exactly as the CLI does: the same settings give the same pixels.
TEST_F(StudioApi, AnOptimisationGivesTheCliImageBitForBit) {
    IMPASTO_REQUIRE_WEIGHTS();
    ASSERT_NO_FATAL_FAILURE(start());
    auto client = http();
    save_image(testing::gradient_image(64, 48), temp_.path() / "content.png");
    save_image(testing::gradient_image(40, 40), temp_.path() / "style.png");
    const std::string content = body_json(upload(client, read_text(temp_.path() / "content.png"))).value("id", "");
    const std::string style = body_json(upload(client, read_text(temp_.path() / "style.png"))).value("id", "");
    const json job = submit(
        client, {{"method", "optimisation"},
                 {"content", content},
                 {"styles", {style}},
                 {"params", {{"size", 64}, {"iterations", 15}, {"schedule", ""}, {"init", "noise"}, {"seed", 5}}}});
    ASSERT_EQ(wait_for_job(client, job.value("id", ""), {"done", "failed"}).value("state", ""), "done");
    write_text(temp_.path() / "studio.png", client.Get("/api/jobs/" + job.value("id", "") + "/image")->body);

    const CliRun cli_run =
        run_cli("stylize " + shell_quote((temp_.path() / "content.png").string()) + " " +
                    shell_quote((temp_.path() / "style.png").string()) +
                    " --size 64 --iterations 15 --schedule none --init noise --seed 5 --threads 2 --quiet -o " +
                    shell_quote((temp_.path() / "cli.png").string()),
                temp_.path());
    ASSERT_EQ(cli_run.exit_code, 0) << cli_run.err;
    const Image from_studio = load_image(temp_.path() / "studio.png");
    const Image from_cli = load_image(temp_.path() / "cli.png");
    ASSERT_EQ(from_studio.width, from_cli.width);
    ASSERT_EQ(from_studio.height, from_cli.height);
    EXPECT_EQ(from_studio.rgb, from_cli.rgb);
}

TEST_F(StudioApi, AQueuedJobIsCancelledAtOnce) {
    ASSERT_NO_FATAL_FAILURE(start({"--workers", "1"}));
    auto client = http();
    const std::string content = upload_id(client, 64, 64);
    // A long first job keeps the only worker busy, so the second stays queued.
    const json first = submit(client, {{"method", "fast"}, {"content", content}, {"params", {{"size", 2048}}}});
    const json second = submit(client, {{"method", "fast"}, {"content", content}, {"params", {{"size", 48}}}});
    const auto reply = client.Post("/api/jobs/" + second.value("id", "") + "/cancel", "", "application/json");
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 200);
    const std::string state = body_json(reply).value("state", "");
    EXPECT_TRUE(state == "cancelled" || state == "running") << reply->body;
    EXPECT_EQ(wait_for_job(client, second.value("id", ""), {"cancelled", "done"}).value("state", ""), "cancelled");
    wait_for_job(client, first.value("id", ""), {"done", "failed"});
}

TEST_F(StudioApi, EventStreamsAreCappedBelowTheHttpPool) {
    ASSERT_NO_FATAL_FAILURE(start({"--workers", "1", "--max-streams", "2"}));
    auto client = http();
    const std::string content = upload_id(client, 64, 64);
    std::vector<std::string> busy;
    for (int i = 0; i < 3; ++i) {
        busy.push_back(
            submit(client, {{"method", "fast"}, {"content", content}, {"params", {{"size", 2048}}}}).value("id", ""));
    }
    const json waiting = submit(client, {{"method", "fast"}, {"content", content}, {"params", {{"size", 64}}}});
    const std::string path = "/api/jobs/" + waiting.value("id", "") + "/events";
    std::vector<std::thread> streams;
    std::atomic<int> finished{0};
    for (int i = 0; i < 2; ++i) {
        streams.emplace_back([&] {
            auto stream = http();
            stream.Get(path, [](const char*, std::size_t) { return true; });
            ++finished;
        });
    }
    // Both slots taken: the third stream is refused, and plain requests are still answered.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (body_json(client.Get("/api/info")).value("event_streams_open", 0) < 2 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    expect_json_error(client.Get(path), 503, "busy");
    const auto info = client.Get("/api/info");
    ASSERT_TRUE(info);
    EXPECT_EQ(info->status, 200);
    wait_for_job(client, waiting.value("id", ""), {"done", "failed"});
    for (std::thread& stream : streams) {
        stream.join();
    }
    EXPECT_EQ(finished.load(), 2);
    for (const std::string& id : busy) {
        EXPECT_EQ(body_json(client.Get("/api/jobs/" + id)).value("state", ""), "done");
    }
}

TEST_F(StudioApi, VotesRankSettingsWithBradleyTerryAndExportCsv) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto client = http();
    const std::string content = upload_id(client, 48, 48);
    expect_json_error(client.Get("/api/compare/next"), 404, "not_found");
    const std::string small =
        submit(client, {{"method", "fast"}, {"content", content}, {"params", {{"size", 32}}}}).value("id", "");
    const std::string large =
        submit(client, {{"method", "fast"}, {"content", content}, {"params", {{"size", 64}}}}).value("id", "");
    wait_for_job(client, small, {"done"});
    wait_for_job(client, large, {"done"});

    const json pair = body_json(client.Get("/api/compare/next?content=" + content));
    const std::set<std::string> shown{pair.at("a").value("id", ""), pair.at("b").value("id", "")};
    EXPECT_EQ(shown, (std::set<std::string>{small, large}));

    expect_json_error(
        client.Post("/api/votes", json{{"a", small}, {"b", large}, {"winner", "c"}}.dump(), "application/json"), 400,
        "bad_request");
    expect_json_error(
        client.Post("/api/votes", json{{"a", small}, {"b", small}, {"winner", "a"}}.dump(), "application/json"), 400,
        "bad_request");
    for (int i = 0; i < 3; ++i) {
        const auto vote =
            client.Post("/api/votes", json{{"a", small}, {"b", large}, {"winner", "b"}}.dump(), "application/json");
        ASSERT_TRUE(vote);
        EXPECT_EQ(vote->status, 201) << vote->body;
    }
    const auto vote =
        client.Post("/api/votes", json{{"a", large}, {"b", small}, {"winner", "b"}}.dump(), "application/json");
    ASSERT_TRUE(vote && vote->status == 201);

    const json ranking = body_json(client.Get("/api/ranking"));
    EXPECT_EQ(ranking.value("votes", 0), 4);
    ASSERT_EQ(ranking.at("items").size(), 2U);
    const json& best = ranking.at("items")[0];
    EXPECT_EQ(best.value("rank", 0), 1);
    EXPECT_EQ(best.value("wins", 0), 3);
    EXPECT_EQ(best.value("losses", 0), 1);
    EXPECT_NE(best.value("label", "").find("size 64"), std::string::npos) << best.dump();
    EXPECT_GT(best.value("strength", 0.0), ranking.at("items")[1].value("strength", 0.0));

    const auto votes_csv = client.Get("/api/votes.csv");
    ASSERT_TRUE(votes_csv);
    EXPECT_EQ(votes_csv->body.rfind("id,created_at,a,b,winner,a_settings,b_settings\n", 0), 0U);
    EXPECT_EQ(std::count(votes_csv->body.begin(), votes_csv->body.end(), '\n'), 5);
    const auto ranking_csv = client.Get("/api/ranking.csv");
    ASSERT_TRUE(ranking_csv);
    EXPECT_EQ(std::count(ranking_csv->body.begin(), ranking_csv->body.end(), '\n'), 3);
    EXPECT_NE(ranking_csv->body.find("1,fast"), std::string::npos) << ranking_csv->body;
}

// The studio's --max-pixels covers every image a job makes, not only uploads: a style scaled past
// it fails the job with a resource error before anything runs.
TEST_F(StudioApi, AStyleScaledPastMaxPixelsFailsItsJob) {
    IMPASTO_REQUIRE_WEIGHTS();
    ASSERT_NO_FATAL_FAILURE(start({"--max-pixels", "5000"}));
    auto client = http();
    const std::string content = upload_id(client, 64, 48); // 3072 pixels
    const std::string style = upload_id(client, 48, 48);
    // The style's long side becomes 4 x 64 = 256 px: 65,536 pixels.
    const json job =
        submit(client, {{"method", "optimisation"},
                        {"content", content},
                        {"styles", {style}},
                        {"params", {{"size", 64}, {"style_scale", 4}, {"iterations", 2}, {"schedule", ""}}}});
    const json failed = wait_for_job(client, job.value("id", ""), {"done", "failed"});
    ASSERT_EQ(failed.value("state", ""), "failed") << failed.dump();
    EXPECT_NE(failed.dump().find("5000"), std::string::npos) << failed.dump();
}

} // namespace
} // namespace impasto::e2e
