// The study report on synthetic results: 2 contents × 2 styles × 3 style weights × 2 weight sets,
// tiny PNGs, made-up loss histories and reconstructions. Checks the HTML's sections, inlined
// images, charts, escaping and self-containment; the CSV's quoting; the JSON's contents; the
// files written; and, where Chromium is installed, that the page renders.
#include "impasto/error.h"
#include "impasto/image.h"
#include "impasto/study_report.h"
#include "testutil.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sstream>

using namespace impasto;
using impasto::testing::TempDir;

namespace {

namespace fs = std::filesystem;

// A diagonal gradient in the given colour; `solid` makes it one flat colour.
Image gradient(int width, int height, float r, float g, float b, bool solid = false) {
    Image image;
    image.width = width;
    image.height = height;
    image.rgb.resize(static_cast<std::size_t>(width) * height * 3);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            const float t =
                solid ? 1.0F : 0.35F + 0.65F * static_cast<float>(x + y) / static_cast<float>(width + height);
            float* p = image.pixel(x, y);
            p[0] = r * t;
            p[1] = g * t;
            p[2] = b * t;
        }
    }
    return image;
}

SpecValue number(double value) {
    SpecValue v;
    v.number = value;
    return v;
}

SpecValue text(const std::string& value) {
    SpecValue v;
    v.kind = SpecValue::Kind::String;
    v.text = value;
    return v;
}

std::vector<LossRecord> history(double scale) {
    std::vector<LossRecord> records;
    for (int s = 0; s < 2; ++s) {
        for (int i = 1; i <= 10; ++i) {
            LossRecord r;
            r.scale_index = s;
            r.iteration = i;
            r.losses.content = scale * 100 * std::exp(-0.1 * (i + 10 * s));
            r.losses.style = scale * 5000 * std::exp(-0.3 * (i + 10 * s));
            r.losses.total = r.losses.content + r.losses.style;
            r.elapsed_seconds = 0.1 * (i + 10 * s);
            records.push_back(r);
        }
    }
    return records;
}

constexpr int kRuns = 24; // 2 contents × 2 styles × 3 style weights × 2 models

// Writes the inputs and outputs as PNGs into `dir` and describes a finished study of them.
StudyResults synthetic_results(const fs::path& dir) {
    StudyResults results;
    StudySpec& spec = results.spec;
    spec.file = dir / "study.toml";
    spec.title = "Weights <b>& models";
    spec.description = "A synthetic study.\nSecond line.";
    const Image inputs[] = {gradient(32, 24, 0.2F, 0.4F, 1.0F), gradient(24, 32, 1.0F, 0.6F, 0.1F),
                            gradient(32, 24, 0.0F, 0.8F, 0.0F, true), gradient(32, 32, 0.7F, 0.1F, 0.7F)};
    const char* names[] = {"lake.png", "tower.png", "green.png", "purple.png"};
    for (int i = 0; i < 4; ++i) {
        save_image(inputs[i], dir / names[i]);
        (i < 2 ? spec.contents : spec.styles).push_back(dir / names[i]);
    }
    spec.grid.push_back({"style_weight", 3, {number(1e2), number(1e3), number(1e4)}});
    spec.grid.push_back({"model", 4, {text("vgg19.caffe"), text("vgg19.caffe-normalised")}});
    spec.matrix = {"style_weight", "model"};
    spec.reconstruction = ReconstructionSpec{};

    fs::create_directories(dir / "runs");
    int index = 0;
    for (int c = 0; c < 2; ++c) {
        for (int s = 0; s < 2; ++s) {
            for (int w = 0; w < 3; ++w) {
                for (int m = 0; m < 2; ++m) {
                    StudyRunResult result;
                    StudyRun& run = result.run;
                    run.index = index;
                    run.content_index = c;
                    run.style_index = s;
                    run.axis_values = {w, m};
                    run.model = spec.grid[1].values[m].text;
                    run.label = spec.contents[c].stem().string() + " × " + spec.styles[s].stem().string() +
                                ", style_weight=" + spec.grid[0].values[w].label() + ", model=" + run.model;
                    result.key = "key" + std::to_string(index);
                    result.image = dir / "runs" / (std::to_string(index) + ".png");
                    save_image(gradient(32, 24, 0.3F + 0.2F * w, 0.3F + 0.3F * s, 0.3F + 0.3F * c), result.image);
                    result.cached = index % 3 == 0;
                    result.history = history(1.0 + w);
                    result.wall_seconds = 1.5 + index;
                    result.peak_memory_bytes = (100 + index) * 1024LL * 1024;
                    result.evaluation = {10.0 + index, 200.0 / (w + 1), 32, 24};
                    result.width = 32;
                    result.height = 24;
                    result.iterations_done = 20;
                    results.runs.push_back(std::move(result));
                    ++index;
                }
            }
        }
    }
    const auto reconstruction = [&](const std::string& kind, const std::string& label, const Image& image) {
        ReconstructionImage r;
        r.kind = kind;
        r.label = label;
        r.layers = {label};
        r.image = dir / ("rec_" + kind + "_" + std::to_string(results.reconstructions.size()) + ".png");
        r.final_loss = 12.5;
        r.wall_seconds = 3;
        save_image(image, r.image);
        results.reconstructions.push_back(r);
    };
    reconstruction("content", "relu1_2", gradient(32, 24, 0.5F, 0.5F, 0.5F));
    reconstruction("content", "relu4_2", gradient(32, 24, 0.4F, 0.5F, 0.6F));
    reconstruction("style", "relu1_1", gradient(32, 24, 0.6F, 0.5F, 0.4F));
    reconstruction("style", "relu1_1..relu2_1", gradient(32, 24, 0.6F, 0.6F, 0.4F));
    reconstruction("features", "relu3_1: 16 most active", gradient(32, 32, 0.9F, 0.9F, 0.9F));
    results.machine = "2 threads, x86_64, LibTorch 1.13.1";
    results.generated_at = "2024-05-01T12:00:00Z";
    results.total_seconds = 42;
    results.runs_executed = 16;
    return results;
}

std::size_t count(const std::string& haystack, const std::string& needle) {
    std::size_t n = 0;
    for (std::size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) {
        ++n;
    }
    return n;
}

std::string read_file(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

} // namespace

TEST(Report, HtmlHasEverySectionAndIsSelfContained) {
    TempDir dir;
    const StudyResults results = synthetic_results(dir.path());
    const std::string html = study_report_html(results);
    EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0U);
    for (const char* heading : {">Content × style<", ">Sweeps<", ">Matrix: style_weight × model<", ">Loss curves<",
                                ">Run time and memory<", ">Layer reconstructions<", ">Model comparison<"}) {
        EXPECT_NE(html.find(heading), std::string::npos) << heading;
    }
    // Grid: 2 style + 2 content margins + 4 cells; style_weight strip: 4 pairs × 3; matrix: 3 × 2;
    // model strip: 4 pairs × 2; reconstructions: 5 images + 3 inputs.
    EXPECT_EQ(count(html, "<img "), 8U + 12U + 6U + 8U + 8U);
    EXPECT_EQ(count(html, "src=\"data:image/jpeg;base64,"), count(html, "<img "));
    // Overlays for the two sweep axes, then one chart per run.
    EXPECT_EQ(count(html, "<svg"), 2U + kRuns);
    EXPECT_NE(html.find("<polyline"), std::string::npos);
    EXPECT_EQ(html.find("http://"), std::string::npos);
    EXPECT_EQ(html.find("https://"), std::string::npos);
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_EQ(html.find("<link"), std::string::npos);
    EXPECT_EQ(html.find("image missing"), std::string::npos);
    EXPECT_EQ(html.find("class=\"warning\""), std::string::npos);
    // The run table: every run once, its evaluator loss in it.
    EXPECT_NE(html.find("<td>lake × green, style_weight=100, model=vgg19.caffe</td>"), std::string::npos);
    EXPECT_NE(html.find("<td>vgg19.caffe-normalised</td>"), std::string::npos);
    // Thumbnails are small: the whole page stays well under a megabyte for 24 runs.
    EXPECT_LT(html.size(), 1'000'000U);
}

TEST(Report, HtmlEscapesText) {
    TempDir dir;
    StudyResults results = synthetic_results(dir.path());
    results.runs[0].run.label = "<script>alert('x')</script>";
    const std::string html = study_report_html(results);
    EXPECT_NE(html.find("Weights &lt;b&gt;&amp; models"), std::string::npos);
    EXPECT_EQ(html.find("<b>& models"), std::string::npos);
    EXPECT_EQ(html.find("<script>"), std::string::npos);
    EXPECT_NE(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), std::string::npos);
}

TEST(Report, MissingImagesBecomePlaceholders) {
    TempDir dir;
    StudyResults results = synthetic_results(dir.path());
    results.runs[0].image = dir / "gone.png";
    fs::remove(results.runs[1].image);
    results.spec.contents[1] = dir / "no-such-content.png";
    results.reconstructions[0].image.clear();
    results.runs.erase(results.runs.begin() + 18); // an interrupted study: tower × green at the first values
    results.complete = false;
    std::string html;
    ASSERT_NO_THROW(html = study_report_html(results));
    EXPECT_GE(count(html, "image missing"), 3U);
    EXPECT_EQ(count(html, "<span>not run</span>"), 3U); // in the grid, the style_weight strip, the model strip
    EXPECT_NE(html.find("class=\"warning\""), std::string::npos);
    EXPECT_NE(html.find("23 of 24 runs"), std::string::npos);
}

TEST(Report, EmptyStudyStillRenders) {
    StudyResults results;
    results.complete = false;
    const std::string html = study_report_html(results);
    EXPECT_NE(html.find("Style transfer study"), std::string::npos);
    EXPECT_EQ(html.find("<img"), std::string::npos);
    EXPECT_EQ(html.find("<section id="), std::string::npos);
    EXPECT_FALSE(study_runs_csv(results).empty());
    EXPECT_TRUE(nlohmann::json::parse(study_results_json(results))["runs"].empty());
}

TEST(Report, CsvHasOneQuotedRowPerRun) {
    TempDir dir;
    StudyResults results = synthetic_results(dir.path());
    results.runs[0].run.label = "say \"hi\", then\nstop";
    const std::string csv = study_runs_csv(results);
    const std::string header = csv.substr(0, csv.find("\r\n"));
    EXPECT_EQ(header, "index,label,content,style,model,style_weight,width,height,iterations_done,wall_seconds,"
                      "peak_memory_bytes,eval_content,eval_style,final_total,final_content,final_style,cached,key,"
                      "image");
    EXPECT_EQ(count(csv, "\r\n"), 1U + kRuns);
    EXPECT_NE(csv.find("\r\n0,\"say \"\"hi\"\", then\nstop\","), std::string::npos);
    // Labels with commas are quoted; the second run's row in full.
    const std::string second = "\r\n1,\"lake × green, style_weight=100, model=vgg19.caffe-normalised\"," +
                               (dir / "lake.png").string() + "," + (dir / "green.png").string() +
                               ",vgg19.caffe-normalised,100,32,24,20,2.5,105906176,11,200,";
    EXPECT_NE(csv.find(second), std::string::npos) << csv.substr(0, 600);
}

TEST(Report, JsonHoldsSpecRunsHistoryAndReconstructions) {
    TempDir dir;
    const StudyResults results = synthetic_results(dir.path());
    const nlohmann::json json = nlohmann::json::parse(study_results_json(results));
    EXPECT_EQ(json["spec"]["title"], "Weights <b>& models");
    ASSERT_EQ(json["spec"]["grid"].size(), 2U);
    EXPECT_EQ(json["spec"]["grid"][0]["key"], "style_weight");
    EXPECT_EQ(json["spec"]["grid"][0]["values"][2]["value"], 1e4);
    EXPECT_EQ(json["spec"]["grid"][1]["values"][1]["label"], "vgg19.caffe-normalised");
    EXPECT_EQ(json["spec"]["matrix"], nlohmann::json({"style_weight", "model"}));
    ASSERT_EQ(json["runs"].size(), static_cast<std::size_t>(kRuns));
    const nlohmann::json& run = json["runs"][3];
    EXPECT_EQ(run["index"], 3);
    EXPECT_EQ(run["grid"]["style_weight"], "1000");
    EXPECT_EQ(run["model"], "vgg19.caffe-normalised");
    EXPECT_EQ(run["evaluation"]["content_loss"], 13.0);
    ASSERT_EQ(run["history"].size(), 20U);
    EXPECT_EQ(run["history"][12]["scale"], 1);
    EXPECT_EQ(run["history"][12]["iteration"], 3);
    EXPECT_DOUBLE_EQ(run["history"][12]["total"].get<double>(), results.runs[3].history[12].losses.total);
    EXPECT_TRUE(run["options"].is_object());
    ASSERT_EQ(json["reconstructions"].size(), 5U);
    EXPECT_EQ(json["reconstructions"][4]["kind"], "features");
    EXPECT_EQ(json["machine"], results.machine);
    EXPECT_EQ(json["complete"], true);
}

TEST(Report, WritesThreeFilesAndReportsBadFolders) {
    TempDir dir;
    const StudyResults results = synthetic_results(dir.path());
    const ReportFiles files = write_study_report(results, dir / "out" / "report");
    for (const fs::path& file : {files.html, files.csv, files.json}) {
        EXPECT_TRUE(fs::is_regular_file(file)) << file;
    }
    EXPECT_EQ(files.html.filename(), "report.html");
    EXPECT_EQ(read_file(files.csv), study_runs_csv(results));
    EXPECT_EQ(read_file(files.html).rfind("<!DOCTYPE html>", 0), 0U);
    std::ofstream(dir / "a-file") << "x";
    EXPECT_THROW(write_study_report(results, dir / "a-file"), OutputError);
}

TEST(Report, RendersInHeadlessChromium) {
    if (impasto::testing::run_command("command -v chromium").exit_code != 0) {
        GTEST_SKIP() << "chromium is not on PATH (Debian: apt-get install chromium)";
    }
    TempDir dir;
    const StudyResults results = synthetic_results(dir.path());
    const ReportFiles files = write_study_report(results, dir / "report");
    const fs::path script =
        fs::path(__FILE__).parent_path().parent_path().parent_path() / "tools" / "report_screenshot.sh";
    ASSERT_TRUE(fs::exists(script)) << script;
    const fs::path shot = dir / "shot.png";
    const auto result =
        impasto::testing::run_command("SCREENSHOT_TIMEOUT=90 " + impasto::testing::shell_quote(script.string()) + " " +
                                      impasto::testing::shell_quote(files.html.string()) + " " +
                                      impasto::testing::shell_quote(shot.string()) + " 1280 1600");
    ASSERT_EQ(result.exit_code, 0) << result.output;
    const Image image = load_image(shot);
    EXPECT_EQ(image.width, 1280);
    EXPECT_EQ(image.height, 1600);
    // Not blank: the luminance varies, and the flat green style image shows up in the grid.
    double sum = 0;
    double sum2 = 0;
    std::size_t green = 0;
    for (int y = 0; y < image.height; ++y) {
        for (int x = 0; x < image.width; ++x) {
            const float* p = image.pixel(x, y);
            const double l = 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2];
            sum += l;
            sum2 += l * l;
            green += p[1] > 0.65F && p[0] < 0.25F && p[2] < 0.25F ? 1 : 0;
        }
    }
    const double n = static_cast<double>(image.width) * image.height;
    const double variance = sum2 / n - (sum / n) * (sum / n);
    EXPECT_GT(variance, 0.002);
    EXPECT_GT(green, 500U) << "the green style thumbnail (32x24 = 768 px) is not in the screenshot";
    // To look at the page: IMPASTO_KEEP_REPORT=/some/folder keeps the report and the screenshot.
    if (const char* keep = std::getenv("IMPASTO_KEEP_REPORT"); keep != nullptr && *keep != '\0') {
        fs::create_directories(keep);
        fs::copy(files.html.parent_path(), keep, fs::copy_options::overwrite_existing | fs::copy_options::recursive);
        fs::copy_file(shot, fs::path(keep) / "shot.png", fs::copy_options::overwrite_existing);
    }
}

TEST(Report, EncodeJpegRoundTrips) {
    TempDir dir;
    const Image image = gradient(40, 30, 0.0F, 0.8F, 0.0F, true);
    const std::vector<std::uint8_t> bytes = encode_jpeg(image, 80);
    ASSERT_GT(bytes.size(), 2U);
    EXPECT_EQ(bytes[0], 0xFF);
    EXPECT_EQ(bytes[1], 0xD8);
    std::ofstream(dir / "t.jpg", std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    const Image back = load_image(dir / "t.jpg");
    ASSERT_EQ(back.width, 40);
    ASSERT_EQ(back.height, 30);
    EXPECT_NEAR(back.pixel(20, 15)[1], 0.8F, 0.03F);
    EXPECT_THROW(encode_jpeg(image, 0), ConfigError);
    EXPECT_THROW(encode_jpeg(Image{}, 80), ConfigError);
}

TEST(Report, TwoByTwoWithoutAxesShowsOnlyTheGrid) {
    TempDir dir;
    StudyResults results = synthetic_results(dir.path());
    results.spec.grid.clear();
    results.spec.matrix.clear();
    results.reconstructions.clear();
    std::vector<StudyRunResult> runs;
    for (StudyRunResult& run : results.runs) {
        if (run.run.axis_values == std::vector<int>{0, 0}) {
            run.run.axis_values.clear();
            runs.push_back(run);
        }
    }
    results.runs = runs;
    ASSERT_EQ(results.runs.size(), 4U);
    const std::string html = study_report_html(results);
    EXPECT_EQ(count(html, "<img "), 8U); // 2 style + 2 content margins + 4 outputs
    EXPECT_NE(html.find("id=\"grid\""), std::string::npos);
    EXPECT_NE(html.find("id=\"losses\""), std::string::npos);
    EXPECT_NE(html.find("id=\"runs\""), std::string::npos);
    for (const char* absent : {"id=\"sweeps\"", "id=\"matrix\"", "id=\"models\"", "id=\"reconstructions\""}) {
        EXPECT_EQ(html.find(absent), std::string::npos) << absent;
    }
    EXPECT_EQ(count(html, "<svg"), 4U);
}
