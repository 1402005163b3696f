#include <catch2/catch.hpp>

#include "util/text.hpp"

using namespace spfctl::util;

TEST_CASE("suggestions pick a close candidate or a longer name starting with the word", "[util][checks]") {
  const std::vector<std::string> senders = {"google-workspace", "mailchimp", "mailgun", "microsoft365",
                                            "sendgrid"};
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(closest_match("mailchimpp", senders) == "mailchimp");
  CHECK(closest_match("sendgird", senders) == "sendgrid");
  CHECK(closest_match("google", senders) == "google-workspace");
  CHECK(closest_match("Microsoft", senders) == "microsoft365");
  CHECK(closest_match("salesforce", senders).empty());
  CHECK(closest_match("sofail", {"fail", "softfail", "neutral"}) == "softfail");
  CHECK(closest_match("ab", {"abc", "xyz"}) == "abc");
  CHECK(closest_match("q", {"abc"}).empty());
  // Too far for a typo even though it starts the same way.
  CHECK(closest_match("mailxx", {"mailabc"}).empty());
}

TEST_CASE("control bytes in quoted input are made visible", "[util]") {
  CHECK(without_controls("a\nb\x7f") == "a\\x0ab\\x7f");
  CHECK(without_controls("plain.example") == "plain.example");
}

TEST_CASE("printable escapes what a terminal would obey and keeps valid UTF-8", "[util]") {
  using spfctl::util::printable;
  CHECK(printable("v=spf1 -all") == "v=spf1 -all");
  CHECK(printable("a\x1b[2Jb\rc\x7f") == "a\\x1b[2Jb\\x0dc\\x7f");
  CHECK(printable("line\nnext") == "line\\x0anext");
  CHECK(printable("line\nnext", true) == "line\nnext");
  CHECK(printable("caf\xc3\xa9 \xe2\x86\x92") == "caf\xc3\xa9 \xe2\x86\x92");  // é →
  CHECK(printable("\xc2\x9b"
                  "31m") == "\\xc2\\x9b31m");    // C1 CSI
  CHECK(printable("\xff\xc3") == "\\xff\\xc3");  // not UTF-8
}
