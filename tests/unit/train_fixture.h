#pragma once
// What the training tests share: a synthetic loss network, a folder of small photos of odd sizes
// (one smaller than the crops) with two style images, small options, and event recorders.
#include "engine_fixtures.h"
#include "impasto/style_model_file.h"
#include "impasto/train.h"
#include "testutil.h"

#include <filesystem>
#include <gtest/gtest.h>
#include <numeric>
#include <vector>

namespace impasto::testing {

namespace fs = std::filesystem;

inline std::shared_ptr<const FeatureModel> synthetic_model() {
    static const auto model = FeatureModel::create(impasto::testing::synthetic_vgg19_weights(), Device{});
    return model;
}

class TrainFixture : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::create_directories(data_ / "sub");
        save_image(synthetic_image(90, 70, 0), data_ / "a.png");
        save_image(synthetic_image(70, 110, 1), data_ / "sub" / "b.jpg");
        save_image(synthetic_image(40, 44, 2), data_ / "c.png");
        save_image(synthetic_image(120, 80, 4), data_ / "d.bmp");
        save_image(synthetic_image(64, 64, 5), style_);
        save_image(synthetic_image(64, 64, 6), style2_);
    }

    TrainCommonOptions common(const std::string& name, int steps) const {
        TrainCommonOptions o;
        o.data = {data_};
        o.output = dir_ / (name + ".impasto");
        o.steps = steps;
        o.batch = 2;
        o.crop = 64;
        o.learning_rate = 1e-2;
        o.seed = 5;
        o.checkpoint_every = 0;
        o.event_every = 1;
        o.loader_threads = 2;
        return o;
    }
    TrainStyleOptions style_options(const std::string& name, int steps) const {
        TrainStyleOptions o;
        o.common = common(name, steps);
        o.styles = {style_};
        o.width = 0.25;
        o.style_size = 64;
        return o;
    }

    TempDir dir_;
    fs::path data_ = dir_ / "data";
    fs::path style_ = dir_ / "style.png";
    fs::path style2_ = dir_ / "other_style.png";
};

inline std::vector<double> totals_of(const std::vector<TrainEvent>& events) {
    std::vector<double> totals;
    for (const TrainEvent& event : events) {
        totals.push_back(event.losses.at("total"));
    }
    return totals;
}

inline double mean(const std::vector<double>& values, std::size_t from, std::size_t count) {
    return std::accumulate(values.begin() + static_cast<std::ptrdiff_t>(from),
                           values.begin() + static_cast<std::ptrdiff_t>(from + count), 0.0) /
           static_cast<double>(count);
}

inline TrainCallback recorder(std::vector<TrainEvent>& events) {
    return [&events](const TrainEvent& event) {
        events.push_back(event);
        events.back().preview = nullptr;
        return true;
    };
}

inline std::vector<float> tensor_values(const StyleModelFile& file, const std::string& name) {
    return file.tensors.at(name).to_float();
}

} // namespace impasto::testing
