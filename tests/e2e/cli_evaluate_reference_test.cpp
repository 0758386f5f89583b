// `impasto evaluate OUT --reference REF`: PSNR and edge sharpness of images against a reference,
// as the reconstruction and upsampling measurements use them; and its one-line errors.
#include "e2e_util.h"

#include <nlohmann/json.hpp>

using namespace impasto::e2e;

TEST(CliEvaluateReference, PsnrOfACopyIsInfiniteAndOfANoisyCopyFinite) {
    TempDir dir;
    const fs::path reference = dir / "reference.png";
    const fs::path noisy = dir / "noisy.png";
    write_synthetic(reference, 64, 48, 3);
    cv::Mat image = cv::imread(reference.string());
    cv::Mat noise(image.size(), image.type());
    cv::randu(noise, 0, 8);
    cv::imwrite(noisy.string(), image + noise);
    const CliRun run = run_cli("evaluate " + shell_quote(reference.string()) + " " + shell_quote(noisy.string()) +
                                   " --reference " + shell_quote(reference.string()) + " --json",
                               dir.path());
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const nlohmann::json rows = nlohmann::json::parse(run.out);
    ASSERT_EQ(rows.size(), 2U);
    EXPECT_TRUE(rows[0]["psnr_db"].is_null() || rows[0]["psnr_db"].get<double>() > 200) << rows[0];
    // Uniform noise of 0..7 levels: MSE (mean 3.5, variance 5.25) = 17.5 / 255^2, 35.7 dB.
    EXPECT_NEAR(rows[1]["psnr_db"].get<double>(), 35.7, 0.5) << rows[1];
    EXPECT_NEAR(rows[1]["edge_ratio"].get<double>(), 1.0, 0.2) << rows[1];
}

TEST(CliEvaluateReference, EitherLossesOrAReference) {
    TempDir dir;
    const fs::path image = dir / "image.png";
    write_synthetic(image, 32, 32, 1);
    const std::string quoted = shell_quote(image.string());
    expect_one_line_error(run_cli("evaluate " + quoted, dir.path()), 2, "--reference");
    expect_one_line_error(run_cli("evaluate " + quoted + " --reference " + quoted + " --content " + quoted, dir.path()),
                          2, "one or the other");
    expect_one_line_error(
        run_cli("evaluate " + quoted + " --reference " + shell_quote((dir / "none.png").string()), dir.path()), 2,
        "reference image");
}
