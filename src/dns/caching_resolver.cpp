#include "dns/caching_resolver.hpp"

#include <chrono>
#include <future>

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

std::vector<Answer> CachingResolver::query_all(const std::vector<std::pair<std::string, RrType>>& questions,
                                               std::vector<bool>* sent) {
  std::vector<std::shared_future<Answer>> futures(questions.size());
  std::vector<std::size_t> mine;  // the questions this call asks
  std::vector<std::promise<Answer>> promises;
  {
    std::lock_guard lock(m_mutex);
    for (std::size_t i = 0; i < questions.size(); ++i) {
      auto [it, inserted] = m_answers.try_emplace({normalize_name(questions[i].first), questions[i].second});
      if (inserted) {
        promises.emplace_back();
        it->second = promises.back().get_future().share();
        mine.push_back(i);
      }
      futures[i] = it->second;
    }
  }
  m_hits += questions.size() - mine.size();
  m_misses += mine.size();
  if (t_tally) t_tally->m_count += mine.size();
  if (sent) {
    sent->assign(questions.size(), false);
    for (const std::size_t i : mine) (*sent)[i] = true;
  }
  if (!mine.empty()) {
    std::vector<std::pair<std::string, RrType>> asked;
    asked.reserve(mine.size());
    for (const std::size_t i : mine) asked.push_back(questions[i]);
    std::size_t answered = 0;
    try {
      std::vector<Answer> answers = m_inner.query_all(asked);
      for (; answered < promises.size(); ++answered)
        promises[answered].set_value(std::move(answers.at(answered)));
    } catch (...) {
      for (; answered < promises.size(); ++answered)
        promises[answered].set_exception(std::current_exception());
    }
  }
  std::vector<Answer> out;
  out.reserve(questions.size());
  for (const std::shared_future<Answer>& answer : futures) out.push_back(answer.get());
  return out;
}

void CachingResolver::forget_failure(std::string_view name, RrType type) {
  std::lock_guard lock(m_mutex);
  const auto found = m_answers.find({normalize_name(name), type});
  if (found == m_answers.end()) return;
  // Only a settled answer: one still in flight belongs to whoever asked it.
  if (found->second.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;
  try {
    if (found->second.get().failed()) m_answers.erase(found);
  } catch (...) {
    m_answers.erase(found);
  }
}

}  // namespace spfctl::dns
