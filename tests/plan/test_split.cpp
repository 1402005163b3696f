#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "dns/message_size.hpp"
#include "plan/split.hpp"

using namespace spfctl;
using namespace spfctl::plan;
using Catch::Contains;

namespace {

std::vector<std::string> many_ip4(int count, int third_octet = 0) {
  std::vector<std::string> terms;
  for (int i = 0; i < count; ++i)
    terms.push_back("ip4:10." + std::to_string(third_octet) + "." + std::to_string(i) + ".0/24");
  return terms;
}

std::string joined(const std::vector<std::string>& strings) {
  std::string out;
  for (const std::string& s : strings) out += s;
  return out;
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t space = text.find(' ', start);
    const std::size_t end = space == std::string::npos ? text.size() : space;
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::size_t answer_size(const DesiredRecord& record, std::vector<std::vector<std::string>> others = {}) {
  others.push_back(record.strings);
  return dns::txt_response_size(record.name, others);
}

}  // namespace

TEST_CASE("records are cut into strings of at most 255 bytes, only between terms", "[plan][split]") {
  const std::vector<std::string> terms = many_ip4(40);
  const std::vector<std::string> strings = to_strings(terms);
  REQUIRE(strings.size() > 1);
  std::string expected = "v=spf1";
  for (const std::string& term : terms) expected += " " + term;
  CHECK(joined(strings) == expected);
  for (std::size_t i = 0; i < strings.size(); ++i) {
    CHECK(strings[i].size() <= dns::k_max_character_string);
    if (i + 1 < strings.size()) {
      CHECK(strings[i].back() == ' ');  // the separating space ends the string
      // Cut between terms: the next string starts a term, and it would not have fitted here.
      CHECK(strings[i + 1].rfind("ip4:", 0) == 0);
      CHECK(strings[i].size() + words(strings[i + 1]).front().size() + 1 > dns::k_max_character_string);
    }
  }
  CHECK(to_strings({"-all"}) == std::vector<std::string>{"v=spf1 -all"});
}

TEST_CASE("a term longer than a string is cut inside, the only way DNS can carry it", "[plan][split]") {
  const std::string long_term = "include:" + std::string(60, 'a') + "." + std::string(60, 'b') + "." +
                                std::string(60, 'c') + "." + std::string(60, 'd') + ".example";
  const std::vector<std::string> strings = to_strings({long_term, "-all"});
  CHECK(joined(strings) == "v=spf1 " + long_term + " -all");
  for (const std::string& s : strings) CHECK(s.size() <= dns::k_max_character_string);
}

TEST_CASE("a record that fits stays one record", "[plan][split]") {
  const RecordTerms record{{"include:_spf.google.com", "ip4:192.0.2.0/24", "-all"}, 1, 2};
  const SplitResult split = split_records("example.com", record, {}, {});
  REQUIRE(split.error.empty());
  REQUIRE(split.records.size() == 1);
  CHECK(split.chains == 0);
  CHECK(split.records[0].name == "example.com");
  CHECK(split.records[0].value() == "v=spf1 include:_spf.google.com ip4:192.0.2.0/24 -all");
}

TEST_CASE("other TXT records at the domain push the movable terms into a chained record", "[plan][split]") {
  std::vector<std::string> terms = many_ip4(22);
  terms.insert(terms.begin(), "include:_spf.google.com");
  terms.push_back("~all");
  const RecordTerms record{terms, 1, 23};
  const SplitResult alone = split_records("example.com", record, {}, {});
  REQUIRE(alone.error.empty());
  REQUIRE(alone.records.size() == 1);
  REQUIRE(alone.unsplit_answer_bytes > 400);

  const std::vector<std::vector<std::string>> others = {{"google-site-verification=" + std::string(80, 'x')},
                                                        {"MS=ms12345678"}};
  const SplitResult split = split_records("example.com", record, {}, others);
  REQUIRE(split.error.empty());
  REQUIRE(split.records.size() == 2);
  CHECK(split.chains == 1);
  const DesiredRecord& apex = split.records[0];
  const DesiredRecord& chain = split.records[1];
  CHECK(chain.name == "_spf1.example.com");
  CHECK(answer_size(apex, others) <= 512);
  CHECK(answer_size(chain) <= 512);
  const std::vector<std::string> apex_terms = words(apex.value());
  CHECK(apex_terms[1] == "include:_spf.google.com");
  CHECK(apex_terms[apex_terms.size() - 2] == "include:_spf1.example.com");  // in the run's place, before ~all
  CHECK(apex_terms.back() == "~all");
  CHECK(words(chain.value()).back() == "-all");
  // Every address term is in exactly one of the two records, in order.
  std::vector<std::string> moved;
  for (const std::string& w : apex_terms)
    if (w.rfind("ip4:", 0) == 0) moved.push_back(w);
  for (const std::string& w : words(chain.value()))
    if (w.rfind("ip4:", 0) == 0) moved.push_back(w);
  CHECK(moved == many_ip4(22));
  // The domain keeps as many as fit: one more would not.
  std::vector<std::string> one_more(apex_terms.begin() + 1, apex_terms.end());
  const std::size_t kept = one_more.size() - 3;  // include:_spf.google.com, include:_spf1..., ~all
  one_more.insert(one_more.end() - 2, many_ip4(22)[kept]);
  std::vector<std::vector<std::string>> with_more = others;
  with_more.push_back(to_strings(one_more));
  CHECK(dns::txt_response_size("example.com", with_more) > 512);
}

TEST_CASE("chained records nest, each within the answer limit, the last ending with -all", "[plan][split]") {
  std::vector<std::string> terms = many_ip4(120);
  const std::vector<std::string> v6 = {"ip6:2001:db8::/32", "ip6:2001:db8:ffff::/48"};
  terms.insert(terms.end(), v6.begin(), v6.end());
  terms.push_back("-all");
  const RecordTerms record{terms, 0, terms.size() - 1};
  const SplitResult split = split_records("example.com", record, {512, "_chain"}, {});
  REQUIRE(split.error.empty());
  REQUIRE(split.records.size() >= 4);
  CHECK(split.chains == split.records.size() - 1);
  std::vector<std::string> addresses;
  for (std::size_t i = 0; i < split.records.size(); ++i) {
    const DesiredRecord& r = split.records[i];
    INFO(r.name << ": " << r.value());
    CHECK(answer_size(r) <= 512);
    for (const std::string& s : r.strings) CHECK(s.size() <= dns::k_max_character_string);
    const std::vector<std::string> w = words(r.value());
    if (i > 0) CHECK(r.name == "_chain" + std::to_string(i) + ".example.com");
    if (i + 1 < split.records.size()) {
      CHECK(std::find(w.begin(), w.end(), "include:_chain" + std::to_string(i + 1) + ".example.com") !=
            w.end());
    } else {
      CHECK(w.back() == "-all");
      CHECK(
          std::none_of(w.begin(), w.end(), [](const std::string& t) { return t.rfind("include:", 0) == 0; }));
    }
    for (const std::string& t : w)
      if (t.rfind("ip", 0) == 0) addresses.push_back(t);
  }
  std::vector<std::string> expected(terms.begin(), terms.end() - 1);
  CHECK(addresses == expected);

  // A larger answer limit needs fewer chains.
  const SplitResult roomy = split_records("example.com", record, {1400, "_chain"}, {});
  REQUIRE(roomy.error.empty());
  CHECK(roomy.chains < split.chains);
}

TEST_CASE("terms that may not move into a chain and do not fit are an error", "[plan][split]") {
  std::vector<std::string> terms;
  for (int i = 0; i < 20; ++i) terms.push_back("-ip4:10.0." + std::to_string(i) + ".0/24");
  for (int i = 0; i < 20; ++i) terms.push_back("exists:%{i}.host" + std::to_string(i) + ".example.com");
  terms.push_back("-all");
  const RecordTerms record{terms, 0, 0};  // no movable run
  const SplitResult split = split_records("example.com", record, {}, {});
  CHECK(split.records.empty());
  CHECK_THAT(split.error, Contains("example.com") && Contains("over the limit of 512"));
}
