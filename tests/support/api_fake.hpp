// What the fakes of DNS provider APIs (cloudflare_fake.hpp, godaddy_fake.hpp) share: injected
// faults, a hook that sees every request first, and the journal of the TXT states they published.
//
//   fake.on_request([&](const httplib::Request& req) {
//     if (req.method == "PUT" && req.path.ends_with("/@")) kill(child, SIGKILL);
//   });
//   ... run the client ...
//   for (const TxtState& state : fake.txt_history("example.com"))
//     CHECK(published_state_problems(state, "example.com").empty());  // spf_state_check.hpp
//
// Every request runs through ApiFake::serve(): the hook, then the first queued fault that applies
// (its delay; its answer instead of the real one, unless it is carried out), then the fake's own
// work (authentication, the API call), then a carried-out fault's answer over the real one.
#pragma once

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace spfctl::testing {

// The TXT records of one zone as receivers would read them: owner name (lowercase, no trailing
// dot) -> its values, each value's character-strings joined, sorted. Names without TXT records
// are absent.
using TxtState = std::map<std::string, std::vector<std::string>>;

// What the next matching requests get instead of (or besides) a normal answer:
//   ApiFault::answer(429).with_retry_after(7), ApiFault::answer(500).on_writes(),
//   ApiFault::slow(300ms), ApiFault::answer(502).on_writes().carried_out()
struct ApiFault {
  int status = 0;                      // answer with this status (0: answer normally)
  std::string body;                    // the body to answer with; empty: the API's usual one
  std::optional<int> retry_after;      // for 429: seconds to wait, as the API says it
  std::chrono::milliseconds delay{0};  // wait this long before answering
  bool writes_only = false;            // only requests other than GET
  bool carry_out = false;              // do the request's work first, then answer with `status`

  static ApiFault answer(int status) {
    ApiFault out;
    out.status = status;
    return out;
  }
  static ApiFault slow(std::chrono::milliseconds delay) {
    ApiFault out;
    out.delay = delay;
    return out;
  }
  ApiFault with_body(std::string text) const {
    ApiFault out = *this;
    out.body = std::move(text);
    return out;
  }
  ApiFault with_retry_after(int seconds) const {
    ApiFault out = *this;
    out.retry_after = seconds;
    return out;
  }
  ApiFault on_writes() const {
    ApiFault out = *this;
    out.writes_only = true;
    return out;
  }
  ApiFault carried_out() const {
    ApiFault out = *this;
    out.carry_out = true;
    return out;
  }
};

// The part of a fake API that is not about its records. Safe to use from any thread while the
// fake serves. A fake derives from it and keeps its FakeHttpServer as its own last member, so the
// server stops before any state its handlers use goes.
class ApiFake {
 public:
  using Hook = std::function<void(const httplib::Request&)>;

  ApiFake() = default;
  ApiFake(const ApiFake&) = delete;
  ApiFake& operator=(const ApiFake&) = delete;

  // `hook` is called with every request the API's routes receive, before anything else happens
  // to it, on the server's thread; no lock of the fake is held, so it may call the fake. Replaces
  // the previous hook; an empty function removes it. The request is then served as usual,
  // whatever the hook did (killing the client that sent it included: it was sent); to have it
  // refused as well, inject() a fault.
  void on_request(Hook hook) {
    std::lock_guard lock(m_mutex);
    m_hook = hook ? std::make_shared<const Hook>(std::move(hook)) : nullptr;
  }

  // The next `times` requests (writes only, with writes_only) get `fault`. Faults queue up.
  void inject(const ApiFault& fault, int times = 1) {
    std::lock_guard lock(m_mutex);
    for (int i = 0; i < times; ++i) m_faults.push_back(fault);
  }

  // The TXT states of `zone` the API published, oldest first: one after each write it carried out
  // (even one that left the records as they were; a batch the API applies atomically counts
  // once), none for a refused request, none for test setup (add_record() and the like). Starts
  // empty.
  std::vector<TxtState> txt_history(const std::string& zone) const {
    std::lock_guard lock(m_mutex);
    auto found = m_history.find(zone);
    return found == m_history.end() ? std::vector<TxtState>() : found->second;
  }

 protected:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  // Answers `res` with `fault`, in the API's own words.
  using FaultAnswer = std::function<void(httplib::Response&, const ApiFault&)>;

  ~ApiFake() = default;

  // `work` behind the hook and the faults, answering faults with `fault_answer`.
  Handler serve(Handler work, FaultAnswer fault_answer) {
    return [this, work = std::move(work), fault_answer = std::move(fault_answer)](const httplib::Request& req,
                                                                                  httplib::Response& res) {
      std::shared_ptr<const Hook> hook;
      {
        std::lock_guard lock(m_mutex);
        hook = m_hook;
      }
      if (hook) (*hook)(req);
      const std::optional<ApiFault> fault = take_fault(req.method != "GET");
      if (fault && fault->delay.count() > 0) std::this_thread::sleep_for(fault->delay);
      if (fault && fault->status != 0 && !fault->carry_out) return fault_answer(res, *fault);
      work(req, res);
      if (fault && fault->status != 0) {
        res.headers.erase("Content-Type");
        res.body.clear();
        fault_answer(res, *fault);
      }
    };
  }

  // Records that `zone` now publishes `state`; called by the fake after each change.
  void published(const std::string& zone, TxtState state) {
    std::lock_guard lock(m_mutex);
    m_history[zone].push_back(std::move(state));
  }

 private:
  std::optional<ApiFault> take_fault(bool write) {
    std::lock_guard lock(m_mutex);
    auto found = std::find_if(m_faults.begin(), m_faults.end(),
                              [&](const ApiFault& f) { return write || !f.writes_only; });
    if (found == m_faults.end()) return std::nullopt;
    ApiFault fault = *found;
    m_faults.erase(found);
    return fault;
  }

  mutable std::mutex m_mutex;
  std::shared_ptr<const Hook> m_hook;
  std::vector<ApiFault> m_faults;
  std::map<std::string, std::vector<TxtState>> m_history;
};

}  // namespace spfctl::testing
