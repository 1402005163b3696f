#include <catch2/catch.hpp>

#include "dns/memory_resolver.hpp"
#include "spf/select.hpp"

using namespace spfctl;
using namespace spfctl::spf;

namespace {

dns::Answer txt_answer(std::vector<std::vector<std::string>> records) {
  dns::Answer answer;
  answer.status = records.empty() ? dns::Status::nodata : dns::Status::ok;
  answer.txt = std::move(records);
  return answer;
}

}  // namespace

TEST_CASE("an SPF record starts with v=spf1 and a space or the end", "[spf][select]") {
  CHECK(is_spf_record("v=spf1"));
  CHECK(is_spf_record("v=spf1 -all"));
  CHECK(is_spf_record("V=SpF1 ~all"));
  CHECK_FALSE(is_spf_record("v=spf10"));
  CHECK_FALSE(is_spf_record("v=spf1mx"));
  CHECK_FALSE(is_spf_record("v=spf1\t-all"));
  CHECK_FALSE(is_spf_record(" v=spf1 -all"));
  CHECK_FALSE(is_spf_record("v=spf"));
  CHECK_FALSE(is_spf_record("spf2.0/pra -all"));
}

TEST_CASE("selection finds the one SPF record among other TXT records", "[spf][select]") {
  const SelectedRecord selected = select_record(
      txt_answer({{"google-site-verification=abc"}, {"v=spf1 ip4:", "192.0.2.5 -all"}, {"\x96"}}),
      "Example.COM.");
  CHECK(selected.outcome == Selection::found);
  CHECK(selected.text == "v=spf1 ip4:192.0.2.5 -all");  // strings of one record joined with no separator
  CHECK(selected.message == "SPF record at example.com");
}

TEST_CASE("selection without an SPF record gives none", "[spf][select]") {
  SelectedRecord selected = select_record(txt_answer({{"v=spf1", "mx"}, {"v=spf10"}, {}}), "example.com");
  CHECK(selected.outcome == Selection::none);
  CHECK(selected.text.empty());
  CHECK(selected.message == "no SPF record at example.com");

  dns::Answer nxdomain;
  nxdomain.status = dns::Status::nxdomain;
  selected = select_record(nxdomain, "gone.example.com");
  CHECK(selected.outcome == Selection::none);
  CHECK(selected.message == "gone.example.com does not exist");

  CHECK(select_record(txt_answer({}), "example.com").outcome == Selection::none);
}

TEST_CASE("two SPF records are an error, even identical or differently cased", "[spf][select]") {
  SelectedRecord selected = select_record(txt_answer({{"v=spf1 -all"}, {"V=sPf1 +all"}}), "example.com");
  CHECK(selected.outcome == Selection::multiple);
  CHECK(selected.text.empty());
  CHECK(selected.message.find("2 SPF records at example.com") == 0);
  CHECK(select_record(txt_answer({{"v=spf1 -all"}, {"v=spf1 -all"}}), "example.com").outcome ==
        Selection::multiple);
}

TEST_CASE("a failed TXT lookup is reported as failed", "[spf][select]") {
  dns::MemoryResolver resolver;
  resolver.add_txt("slow.example.com", {"v=spf1 -all"});
  resolver.set_failure("slow.example.com", dns::RrType::TXT, dns::Status::timeout);
  const SelectedRecord selected =
      select_record(resolver.query("slow.example.com", dns::RrType::TXT), "slow.example.com");
  CHECK(selected.outcome == Selection::failed);
  CHECK(selected.message.find("TXT lookup for slow.example.com failed (timeout") == 0);
}
