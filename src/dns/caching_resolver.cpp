#include "dns/caching_resolver.hpp"

namespace spfctl::dns {

namespace {

thread_local QuestionTally* t_tally = nullptr;

}  // namespace

QuestionTally::QuestionTally() : m_outer(t_tally) {
  t_tally = this;
}

QuestionTally::~QuestionTally() {
  t_tally = m_outer;
}

Answer CachingResolver::query(std::string_view name, RrType type) {
  std::promise<Answer> promise;
  std::shared_future<Answer> answer;
  bool first = false;
  {
    std::lock_guard lock(m_mutex);
    auto [it, inserted] = m_answers.try_emplace({normalize_name(name), type});
    if (inserted) it->second = promise.get_future().share();
    answer = it->second;
    first = inserted;
  }
  // Waiting and asking happen outside the lock, so other questions go on meanwhile.
  if (!first) {
    ++m_hits;
    return answer.get();
  }
  ++m_misses;
  if (t_tally) ++t_tally->m_count;
  try {
    promise.set_value(m_inner.query(name, type));
  } catch (...) {
    promise.set_exception(std::current_exception());
  }
  return answer.get();
}

}  // namespace spfctl::dns
