#pragma once
// A spec file as a small tree that remembers the line of every key, so that TOML and JSON specs
// share one interpreter and every error can name its line.
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

// Throw ConfigError "NAME:LINE: <syntax error>" for text that is not valid TOML/JSON.
SpecNode parse_toml_tree(const std::string& text, const std::string& name);
SpecNode parse_json_tree(const std::string& text, const std::string& name);

} // namespace impasto::study
