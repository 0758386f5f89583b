// The CLI's parser, end to end: every subcommand's --help renders and lists each option once,
// `impasto layers` lists the layer names, --version works, and unknown subcommands are refused.
#include "e2e_util.h"

#include <map>

namespace impasto::e2e {
namespace {

// The option names in the first column of CLI11's help ("  -o,--output TEXT ...",
// "  --line-search,--no-line-search{false}"), in order, with duplicates kept.
std::vector<std::string> listed_options(const std::string& help) {
    std::vector<std::string> names;
    std::istringstream lines(help);
    std::string line;
    while (std::getline(lines, line)) {
        const auto start = line.find_first_not_of(' ');
        if (start == std::string::npos || start == 0 || line[start] != '-') {
            continue; // descriptions, wrapped descriptions, headings
        }
        std::string first = line.substr(start, line.find(' ', start) - start);
        std::istringstream parts(first);
        std::string part;
        while (std::getline(parts, part, ',')) {
            part = part.substr(0, part.find_first_of("{="));
            if (part.rfind("--", 0) == 0 && part.size() > 2) {
                names.push_back(part);
            }
        }
    }
    return names;
}

TEST(CliParse, EverySubcommandHelpRendersWithUniqueOptions) {
    TempDir dir;
    // The options each help must list (besides --help), so a parse that drops them all still fails.
    const std::map<std::string, std::vector<std::string>> expected{
        {"", {"--version", "--weights-dir"}},
        {"stylize", {"--output",         "--preset",         "--size",           "--iterations",
                     "--schedule",       "--content-layers", "--style-layers",   "--style-layer-weights",
                     "--content-weight", "--style-weight",   "--tv-weight",      "--seed",
                     "--init",           "--style-blend",    "--preserve-color", "--precision",
                     "--threads",        "--save-every",     "--weights",        "--quiet"}},
        {"evaluate", {"--content", "--style", "--size", "--device", "--threads", "--weights", "--json"}},
        {"layers", {"--vgg16"}},
        {"weights", {}},
        {"weights status", {"--verify"}},
        {"weights install", {"--wheel", "--python", "--force"}},
        {"weights import", {"--name"}},
        {"weights compare", {}},
        {"weights normalise", {"--data", "--size"}},
        {"weights classify", {}},
        {"reconstruct content", {"--output", "--layers", "--size", "--iterations", "--seed", "--pooling"}},
        {"reconstruct style", {"--output", "--size", "--iterations"}},
        {"reconstruct features", {"--output", "--layer", "--count"}},
        {"study", {"--output", "--device", "--precision", "--threads", "--dry-run"}},
        {"models measure",
         {"--dir", "--images", "--content", "--styles", "--size", "--precision", "--device", "--threads", "--weights",
          "--no-write", "--json", "--quiet"}},
    };
    for (const auto& [command, required] : expected) {
        SCOPED_TRACE("impasto " + command + " --help");
        const CliRun run = run_cli(command + " --help", dir.path());
        EXPECT_EQ(run.exit_code, 0) << run.err;
        EXPECT_NE(run.out.find("Usage: impasto"), std::string::npos) << run.out;
        const std::vector<std::string> names = listed_options(run.out);
        std::map<std::string, int> counts;
        for (const std::string& name : names) {
            ++counts[name];
        }
        for (const auto& [name, count] : counts) {
            EXPECT_EQ(count, 1) << name << " is listed " << count << " times in:\n" << run.out;
        }
        EXPECT_EQ(counts.count("--help"), 1U) << run.out;
        for (const std::string& name : required) {
            EXPECT_EQ(counts.count(name), 1U) << name << " missing from:\n" << run.out;
        }
    }
}

TEST(CliParse, StylizeHelpGivesEveryOptionADescription) {
    TempDir dir;
    const CliRun run = run_cli("stylize --help", dir.path());
    ASSERT_EQ(run.exit_code, 0);
    std::istringstream lines(run.out);
    std::string line;
    std::string pending; // an option whose description is on the next line
    while (std::getline(lines, line)) {
        const auto start = line.find_first_not_of(' ');
        const bool option_line = start == 2 && line[start] == '-';
        if (!pending.empty()) {
            EXPECT_FALSE(option_line || start == std::string::npos) << pending << " has no description";
            pending.clear();
            continue;
        }
        if (option_line && line.size() <= 30) {
            pending = line;
        } else if (option_line) {
            EXPECT_NE(line.find_first_not_of(' ', 30), std::string::npos) << line << ": no description";
        }
    }
    EXPECT_TRUE(pending.empty()) << pending << " has no description";
}

TEST(CliParse, LayersListsTheVggLayers) {
    TempDir dir;
    const CliRun run = run_cli("layers", dir.path());
    ASSERT_EQ(run.exit_code, 0) << run.err;
    std::set<std::string> first_words;
    std::istringstream lines(run.out);
    std::string line;
    while (std::getline(lines, line)) {
        first_words.insert(line.substr(0, line.find(' ')));
    }
    for (const char* name : {"conv1_1", "relu1_1", "relu4_2", "relu5_1", "pool5"}) {
        EXPECT_EQ(first_words.count(name), 1U) << name << " missing from:\n" << run.out;
    }
    EXPECT_NE(run.out.find("relu4_2        512      8  content"), std::string::npos) << run.out;
}

TEST(CliParse, VersionPrintsTheVersion) {
    TempDir dir;
    const CliRun run = run_cli("--version", dir.path());
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(run.out.rfind("impasto ", 0), 0U) << run.out;
    EXPECT_NE(run.out.find_first_of("0123456789"), std::string::npos) << run.out;
}

void expect_parse_error(const CliRun& run) {
    EXPECT_EQ(run.exit_code, 2) << run.err;
    EXPECT_EQ(run.err.rfind("impasto: error: ", 0), 0U) << run.err;
    EXPECT_EQ(run.err.find('\n'), run.err.size() - 1) << "more than one line on stderr:\n" << run.err;
}

TEST(CliParse, UnknownSubcommandIsAParseError) {
    TempDir dir;
    expect_parse_error(run_cli("frobnicate", dir.path()));
    expect_parse_error(run_cli("", dir.path()));
    expect_parse_error(run_cli("weights frobnicate", dir.path()));
}

TEST(CliParse, UnknownOptionAndMissingArgumentsAreParseErrors) {
    TempDir dir;
    write_synthetic(dir / "c.png", 32, 24, 1);
    write_synthetic(dir / "s.png", 32, 24, 2);
    const std::string images = shell_quote((dir / "c.png").string()) + " " + shell_quote((dir / "s.png").string());
    const std::string out = " -o " + shell_quote((dir / "o.png").string());
    expect_parse_error(run_cli("stylize " + images + out + " --no-such-option", dir.path()));
    expect_parse_error(run_cli("stylize " + images, dir.path()));                         // no -o
    expect_parse_error(run_cli("stylize " + images + out + " --iterations", dir.path())); // no value
    expect_parse_error(run_cli("stylize " + images + out + " --iterations ten", dir.path()));
    EXPECT_FALSE(fs::exists(dir / "o.png"));
    EXPECT_FALSE(fs::exists(dir / "o.json"));
}

} // namespace
} // namespace impasto::e2e
