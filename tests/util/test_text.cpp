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
