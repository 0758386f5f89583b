#pragma once
// A spec file as a small tree that remembers the line of every key, so that TOML and JSON specs
// share one interpreter and every error can name its line.
#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace impasto::study {

struct SpecNode {
    enum class Type { Table, Array, Number, String, Bool };
    Type type = Type::Table;
    int line = 0;
    double number = 0;
    bool is_integer = false;
    std::string text;
    bool flag = false;
    std::vector<std::pair<std::string, SpecNode>> members; // Table, in file order
    std::vector<SpecNode> items;                           // Array
};

const char* type_name(SpecNode::Type type);

// A spec is a few kilobytes and nests three levels ([reconstruct] style_layer_sets = [["relu1_1"]]).
// Larger or deeper text is refused before it is parsed: the tree, toml++'s tables and the
// interpreter all recurse once per level.
inline constexpr std::size_t kMaxSpecBytes = 1U << 20U;
inline constexpr int kMaxSpecDepth = 16;

// Throw ConfigError "NAME:LINE: <syntax error>" for text that is not valid TOML/JSON, and
// ConfigError "NAME: ..." for text over kMaxSpecBytes or nesting deeper than kMaxSpecDepth.
SpecNode parse_toml_tree(const std::string& text, const std::string& name);
SpecNode parse_json_tree(const std::string& text, const std::string& name);

} // namespace impasto::study
