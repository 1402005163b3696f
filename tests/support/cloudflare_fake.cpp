// The fake's routes, compiled once for every test that uses it (its handlers are instantiated here).
#include "tests/support/cloudflare_fake.hpp"

namespace spfctl::testing {

CloudflareFake::CloudflareFake(std::string token) : m_token(std::move(token)) {
  const std::string zones = "/client/v4/zones";
  const std::string records = zones + "/([^/]+)/dns_records";
  m_server.get(zones,
               wrap([this](const httplib::Request& req, httplib::Response& res) { list_zones(req, res); }));
  m_server.get(records,
               wrap([this](const httplib::Request& req, httplib::Response& res) { list_records(req, res); }));
  m_server.post(records,
                wrap([this](const httplib::Request& req, httplib::Response& res) { create(req, res); }));
  m_server.post(records + "/batch",
                wrap([this](const httplib::Request& req, httplib::Response& res) { batch(req, res); }));
  m_server.put(records + "/([^/]+)", wrap([this](const httplib::Request& req, httplib::Response& res) {
                 overwrite(req, res, false);
               }));
  m_server.patch(records + "/([^/]+)", wrap([this](const httplib::Request& req, httplib::Response& res) {
                   overwrite(req, res, true);
                 }));
  m_server.del(records + "/([^/]+)",
               wrap([this](const httplib::Request& req, httplib::Response& res) { remove(req, res); }));
  m_server.start();
}

}  // namespace spfctl::testing
