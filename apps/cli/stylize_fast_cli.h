#pragma once
// The feed-forward side of `impasto stylize`: --model (a trained transformer or StyleBank network) and
// --method adain|wct (any style image), for one photo or a folder of them.
#include "commands.h"

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace impasto::cli {

struct FastStylizeArgs {
    std::string model;
    std::string method;
    std::vector<double> style_weights;
    double alpha = 0;
    std::vector<std::string> levels;
    std::string decoders;
    std::vector<std::string> masks;
    int style_size = 0;
    double wct_epsilon = 0;
    int tile = 0;
    int tile_overlap = 0;
    int work_size = 0;
    std::string format = "jpg";
    bool skip_existing = false;
    CLI::Option* alpha_option = nullptr;
    CLI::Option* style_size_option = nullptr;
    CLI::Option* wct_epsilon_option = nullptr;
    CLI::Option* tile_overlap_option = nullptr;
    CLI::Option* work_size_option = nullptr;
};

// What the optimisation and the fast path share on the command line.
struct SharedStylizeArgs {
    std::string content;
    std::vector<std::string> styles;
    std::string output;
    std::string size; // "" = the content's own size
    std::string color;
    std::string precision;
    std::string device;
    int threads = 0;
    std::vector<double> style_blend;
    std::string weights;
    std::int64_t max_pixels = 0; // decode limit of every image, and the options' max_pixels
    bool quiet = false;
};

void add_fast_stylize_options(CLI::App& cmd, FastStylizeArgs& args);
bool wants_fast_stylize(const FastStylizeArgs& args);
void run_fast_stylize(const FastStylizeArgs& args, const SharedStylizeArgs& shared, CliState& state);

} // namespace impasto::cli
