// The method tabs' examples against the real `impasto serve`: /api/defaults names each model's
// example, GET /api/examples/FILE serves it as a JPEG with the security and cache headers, and
// nothing else is served from the models folder: unknown names, names outside the index, the
// index itself and every way of spelling a path outside the examples folder get 404 (or 400).
#include "studio_fixture.h"

#include <gtest/gtest.h>

namespace impasto::e2e {
namespace {

class StudioExamples : public ::testing::Test {
  protected:
    // A models folder of the test's own: one model, its example, an entry pointing out of the
    // folder, and a picture beside the folder that must never be served.
    void SetUp() override {
        models_ = temp_.path() / "models";
        fs::create_directories(models_ / "examples");
        const fs::path source_model = fs::path(IMPASTO_SOURCE_DIR) / "models" / "starry_night.impasto";
        ASSERT_TRUE(fs::exists(source_model)) << source_model;
        fs::copy_file(source_model, models_ / "starry_night.impasto");
        const std::vector<std::uint8_t> jpeg = encode_jpeg(testing::gradient_image(40, 30), 80);
        jpeg_.assign(jpeg.begin(), jpeg.end());
        write_text(models_ / "examples" / "fast-starry_night-starry_night.jpg", jpeg_);
        write_text(models_ / "secret.jpg", jpeg_ + "SECRET");
        const json index{
            {"examples",
             {{{"method", "fast"},
               {"model", "starry_night"},
               {"style", "starry_night"},
               {"file", "fast-starry_night-starry_night.jpg"}},
              {{"method", "fast"}, {"model", "starry_night"}, {"style", "x"}, {"file", "../secret.jpg"}}}}};
        write_text(models_ / "examples" / "index.json", index.dump());
        server_ = std::make_unique<StudioProcess>(temp_.path() / "data");
        ASSERT_NO_FATAL_FAILURE(server_->start({"--models", models_.string()}));
    }

    TempDir temp_;
    fs::path models_;
    std::string jpeg_;
    std::unique_ptr<StudioProcess> server_;
};

void expect_security_headers(const httplib::Result& result, const std::string& what) {
    ASSERT_TRUE(result) << what;
    const std::string csp = result->get_header_value("Content-Security-Policy");
    EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << what << ": " << csp;
    EXPECT_NE(csp.find("img-src 'self'"), std::string::npos) << what << ": " << csp;
    EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << what << ": " << csp;
    EXPECT_EQ(result->get_header_value("X-Content-Type-Options"), "nosniff") << what;
    EXPECT_EQ(result->get_header_value("X-Frame-Options"), "DENY") << what;
    EXPECT_EQ(result->get_header_value("Cross-Origin-Resource-Policy"), "same-origin") << what;
}

TEST_F(StudioExamples, TheCatalogNamesEachModelsExampleAndTheRouteServesIt) {
    auto client = server_->client();
    const json defaults = body_json(client.Get("/api/defaults"));
    const json& models = defaults.at("fast").at("models");
    ASSERT_EQ(models.size(), 1U) << defaults.dump();
    const json& examples = models.at(0).at("examples");
    ASSERT_EQ(examples.size(), 1U) << "the entry pointing out of the folder is left out: " << examples.dump();
    EXPECT_EQ(examples.at(0).value("style", ""), "starry_night");
    EXPECT_EQ(examples.at(0).value("width", 0), 40);
    EXPECT_EQ(examples.at(0).value("height", 0), 30);
    const std::string url = examples.at(0).value("url", "");
    EXPECT_EQ(url.rfind("/api/examples/fast-starry_night-starry_night.jpg?v=", 0), 0U) << url;
    EXPECT_EQ(defaults.at("optimisation").at("examples"), json::array()) << "none made, none offered";
    EXPECT_EQ(defaults.at("arbitrary").at("examples"), json::array());
    EXPECT_NE(server_->log_text().find("model example left out"), std::string::npos)
        << "the server says why an entry was left out:\n"
        << server_->log_text();

    const auto served = client.Get(url);
    expect_security_headers(served, "an example");
    EXPECT_EQ(served->status, 200);
    EXPECT_EQ(served->get_header_value("Content-Type"), "image/jpeg");
    EXPECT_EQ(served->body, jpeg_);
    EXPECT_NE(served->get_header_value("Cache-Control").find("immutable"), std::string::npos)
        << "the versioned URL changes with the bytes, so it may be kept";

    // Without the version (or with an old one) it is served but asked for again; an ETag saves the bytes.
    const auto plain = client.Get("/api/examples/fast-starry_night-starry_night.jpg?v=0123456789abcdef");
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->status, 200);
    EXPECT_EQ(plain->get_header_value("Cache-Control"), "no-cache");
    const std::string etag = plain->get_header_value("ETag");
    ASSERT_FALSE(etag.empty());
    const auto again = client.Get("/api/examples/fast-starry_night-starry_night.jpg", {{"If-None-Match", etag}});
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 304);
    EXPECT_TRUE(again->body.empty());
    expect_security_headers(again, "a 304");
}

TEST_F(StudioExamples, NothingElseInTheModelsFolderIsServed) {
    auto client = server_->client();
    const std::vector<std::string> attempts{
        "/api/examples/unknown.jpg",
        "/api/examples/secret.jpg",
        "/api/examples/index.json",
        "/api/examples/",
        "/api/examples/../secret.jpg",
        "/api/examples/..%2Fsecret.jpg",
        "/api/examples/%2e%2e%2fsecret.jpg",
        "/api/examples/..%2F..%2Fmodels%2Fsecret.jpg",
        "/api/examples/.%2Ffast-starry_night-starry_night.jpg",
        "/api/examples/fast-starry_night-starry_night.jpg%00.png",
        "/api/examples/fast-starry_night-starry_night.jpg/..%2F..%2Fsecret.jpg",
        "/api/examples//etc/passwd",
        "/api/examples/%2Fetc%2Fpasswd",
        "/api/examples/starry_night.impasto",
        "/api/examples/..%2Fstarry_night.impasto",
    };
    for (const std::string& path : attempts) {
        const auto result = client.Get(path);
        ASSERT_TRUE(result) << path;
        EXPECT_TRUE(result->status == 404 || result->status == 400) << path << " gave " << result->status;
        EXPECT_EQ(result->body.find("SECRET"), std::string::npos) << path;
        EXPECT_EQ(result->body.find("root:"), std::string::npos) << path;
        EXPECT_NE(result->get_header_value("Content-Type").find("application/json"), std::string::npos) << path;
        expect_security_headers(result, path);
    }
    const auto unknown = client.Get("/api/examples/unknown.jpg");
    const json body = body_json(unknown);
    EXPECT_EQ(body.at("error").value("code", ""), "not_found") << unknown->body;
    // Only GET: nothing can be written there.
    const auto put = client.Post("/api/examples/fast-starry_night-starry_night.jpg", "x", "image/jpeg");
    ASSERT_TRUE(put);
    EXPECT_GE(put->status, 400);
}

TEST_F(StudioExamples, WithATokenTheExamplesNeedItToo) {
    server_->stop();
    ASSERT_NO_FATAL_FAILURE(server_->start({"--models", models_.string(), "--token", "open-sesame"}));
    auto client = server_->client();
    const auto refused = client.Get("/api/examples/fast-starry_night-starry_night.jpg");
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 401);
    EXPECT_EQ(refused->body.find(jpeg_), std::string::npos);
    const auto allowed =
        client.Get("/api/examples/fast-starry_night-starry_night.jpg", {{"Authorization", "Bearer open-sesame"}});
    ASSERT_TRUE(allowed);
    EXPECT_EQ(allowed->status, 200);
    EXPECT_EQ(allowed->body, jpeg_);
}

} // namespace
} // namespace impasto::e2e
