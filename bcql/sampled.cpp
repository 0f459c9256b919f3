#include "bcql/sampled.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "bcql/detail/work_table.hpp"
#include "common/error.hpp"
#include "common/random.hpp"

namespace bcq::bcql {

const char* to_string(Algorithm algorithm) {
  return algorithm == Algorithm::kQLearning ? "q-learning" : "bcql";
}

Algorithm algorithm_from_string(const std::string& name) {
  if (name == "q-learning") return Algorithm::kQLearning;
  if (name == "bcql") return Algorithm::kBcql;
  throw InputError("unknown algorithm '" + name + "' (expected q-learning or bcql)");
}

const char* to_string(StopReason reason) {
  return reason == StopReason::kConverged ? "converged" : "max-updates";
}

StepSchedule StepSchedule::constant(double alpha) {
  StepSchedule s;
  s.kind = Kind::kConstant;
  s.alpha = alpha;
  return s;
}

StepSchedule StepSchedule::polynomial(double c, double w) {
  StepSchedule s;
  s.kind = Kind::kPolynomial;
  s.c = c;
  s.w = w;
  return s;
}

double StepSchedule::at(int64_t n) const {
  if (kind == Kind::kConstant) return alpha;
  const double nd = static_cast<double>(n);
  const double a = w == 1.0 ? c / nd : c / std::pow(nd, w);
  return std::min(1.0, a);
}

bool StepSchedule::robbins_monro() const {
  return kind == Kind::kPolynomial && c > 0.0 && w > 0.5 && w <= 1.0;
}

void StepSchedule::validate() const {
  if (kind == Kind::kConstant) {
    if (!(alpha > 0.0 && alpha <= 1.0))
      throw InputError("step size: constant alpha must be in (0, 1], got " + std::to_string(alpha));
    return;
  }
  if (!(c > 0.0) || !std::isfinite(c))
    throw InputError("step size: c must be finite and > 0, got " + std::to_string(c));
  if (!(w > 0.0 && w <= 1.0))
    throw InputError("step size: exponent w must be in (0, 1], got " + std::to_string(w));
}

namespace {

// Step functors, so the inner loop is compiled once per schedule kind without a branch.
struct ConstantStep {
  double alpha;
  double operator()(int64_t) const { return alpha; }
};

// c / n^w read from a table for the first 2^16 visits of a pair (pow costs more than the
// whole rest of an update), computed beyond.
struct PolynomialStep {
  const double* table;
  int64_t table_size;
  StepSchedule schedule;
  double operator()(int64_t n) const { return n < table_size ? table[n] : schedule.at(n); }
};

// Draws ahead of use: the index for update t + kLookahead is drawn (and its record
// prefetched) at update t, so that memory latency of the random batch access overlaps. The
// draws are consumed in the order they are made: the same seed gives the same run whatever the
// chunking by the convergence diagnostic.
constexpr int kLookahead = 16;

struct Sampler {
  Rng rng;
  uint32_t n;
  uint32_t ring[kLookahead];
  const CompactTransition* records;
  int64_t position = 0;  // updates consumed

  Sampler(uint64_t seed, const CompactTransition* recs, uint32_t size)
      : rng(seed), n(size), ring{}, records(recs) {
    for (int j = 0; j < kLookahead; ++j) {
      ring[j] = rng.below(n);
      __builtin_prefetch(records + ring[j]);
    }
  }
  const CompactTransition& next() {
    const int slot = static_cast<int>(position & (kLookahead - 1));
    const uint32_t index = ring[slot];
    const uint32_t ahead = rng.below(n);
    ring[slot] = ahead;
    __builtin_prefetch(records + ahead);
    ++position;
    return records[index];
  }
};

// Eq. 2 / Eq. 6 on the work table: Q(s,a) += alpha_n (r + gamma max_a' T(s',a') - Q(s,a)).
// kA > 0 fixes |A| at compile time (unrolled max); kA == 0 reads it at run time.
template <int kA, typename Step>
void update_loop(Sampler& sampler, int64_t count, double gamma, int A_runtime, double* T,
                 int64_t* visits, const Step& step) {
  const int A = kA > 0 ? kA : A_runtime;
  for (int64_t t = 0; t < count; ++t) {
    const CompactTransition& tr = sampler.next();
    const double* row = T + static_cast<size_t>(tr.s_next) * static_cast<size_t>(A);
    double m = row[0];
    for (int a = 1; a < A; ++a) m = row[a] > m ? row[a] : m;
    const double target = tr.r + gamma * m;
    const int64_t n = ++visits[tr.sa];
    double& q = T[tr.sa];
    q += step(n) * (target - q);
  }
}

template <typename Step>
void dispatch(Sampler& sampler, int64_t count, double gamma, int A, double* T, int64_t* visits,
              const Step& step) {
  switch (A) {
    case 1: update_loop<1>(sampler, count, gamma, A, T, visits, step); break;
    case 2: update_loop<2>(sampler, count, gamma, A, T, visits, step); break;
    case 3: update_loop<3>(sampler, count, gamma, A, T, visits, step); break;
    case 4: update_loop<4>(sampler, count, gamma, A, T, visits, step); break;
    case 5: update_loop<5>(sampler, count, gamma, A, T, visits, step); break;
    case 6: update_loop<6>(sampler, count, gamma, A, T, visits, step); break;
    case 8: update_loop<8>(sampler, count, gamma, A, T, visits, step); break;
    default: update_loop<0>(sampler, count, gamma, A, T, visits, step); break;
  }
}

QTable q_init_of(const PreparedBatch& batch, double fill, const QTable& table) {
  const int S = batch.num_states;
  const int A = batch.num_actions;
  QTable q(S, A, fill);
  if (!table.values.empty()) {
    if (table.num_states != S || table.num_actions != A ||
        table.values.size() != static_cast<size_t>(S) * static_cast<size_t>(A))
      throw InputError("Q_init table is " + std::to_string(table.num_states) + " x " +
                       std::to_string(table.num_actions) + " but the MDP is " +
                       std::to_string(S) + " x " + std::to_string(A));
    q = table;
  }
  for (int s = 0; s < S; ++s)
    for (int a = 0; a < A; ++a) {
      if (!std::isfinite(q(s, a)))
        throw InputError("Q_init(" + std::to_string(s) + "," + std::to_string(a) +
                         ") is not finite");
      if (batch.terminal[static_cast<size_t>(s)]) q.at(s, a) = 0.0;
    }
  return q;
}

double residual_of(const PreparedBatch& batch, const std::vector<double>& T) {
  std::vector<double> scratch(T);
  return detail::sweep(batch, T, scratch);
}

}  // namespace

namespace detail {
QTable resolve_q_init(const PreparedBatch& batch, double fill, const QTable& table) {
  return q_init_of(batch, fill, table);
}
}  // namespace detail

SampledResult run_sampled(const PreparedBatch& batch, const SampledOptions& options) {
  options.step.validate();
  if (options.max_updates < 0) throw InputError("max_updates must be >= 0");
  if (options.check_every < 0) throw InputError("check_every must be >= 0");
  if (!(options.residual_tolerance >= 0.0))
    throw InputError("residual_tolerance must be >= 0");
  if (batch.transitions.empty()) throw InputError("the batch is empty [rule: batch-empty]");

  const QTable q_init = q_init_of(batch, options.q_init, options.q_init_table);
  std::vector<double> T = detail::make_work_table(batch, options.algorithm, q_init,
                                                  options.test_unconstrained_max);
  SampledResult result;
  result.visits.assign(T.size(), 0);
  Sampler sampler(options.seed, batch.transitions.data(),
                  static_cast<uint32_t>(batch.transitions.size()));

  std::vector<double> alpha_table;
  if (options.step.kind == StepSchedule::Kind::kPolynomial) {
    const int64_t size = std::min<int64_t>(int64_t{1} << 16, options.max_updates + 1);
    alpha_table.resize(static_cast<size_t>(std::max<int64_t>(size, 1)));
    for (size_t n = 1; n < alpha_table.size(); ++n)
      alpha_table[n] = options.step.at(static_cast<int64_t>(n));
  }
  auto run_chunk = [&](int64_t count) {
    if (options.step.kind == StepSchedule::Kind::kConstant) {
      dispatch(sampler, count, batch.gamma, batch.num_actions, T.data(), result.visits.data(),
               ConstantStep{options.step.alpha});
    } else {
      dispatch(sampler, count, batch.gamma, batch.num_actions, T.data(), result.visits.data(),
               PolynomialStep{alpha_table.data(), static_cast<int64_t>(alpha_table.size()),
                              options.step});
    }
    result.updates += count;
  };

  if (options.check_every == 0) {
    run_chunk(options.max_updates);
  } else {
    while (result.updates < options.max_updates) {
      run_chunk(std::min(options.check_every, options.max_updates - result.updates));
      result.residual = residual_of(batch, T);
      ++result.residual_checks;
      if (result.residual <= options.residual_tolerance) {
        result.stop = StopReason::kConverged;
        break;
      }
    }
  }
  result.Q = detail::from_work_table(T, q_init);
  return result;
}

SampledResult run_sampled(const FiniteMdp& mdp, const Batch& batch, const SampledOptions& options) {
  return run_sampled(prepare_batch(mdp, batch), options);
}

double bellman_residual(const PreparedBatch& batch, Algorithm algorithm, const QTable& Q,
                        bool test_unconstrained_max) {
  if (Q.num_states != batch.num_states || Q.num_actions != batch.num_actions)
    throw InputError("bellman_residual: Q table shape does not match the batch's MDP");
  return residual_of(batch, detail::make_work_table(batch, algorithm, Q, test_unconstrained_max));
}

std::vector<int> learned_policy(const PreparedBatch& batch, Algorithm algorithm, const QTable& Q) {
  if (Q.num_states != batch.num_states || Q.num_actions != batch.num_actions)
    throw InputError("learned_policy: Q table shape does not match the batch's MDP");
  std::vector<int> actions(static_cast<size_t>(batch.num_states), 0);
  for (int s = 0; s < batch.num_states; ++s) {
    if (batch.terminal[static_cast<size_t>(s)]) continue;
    int best = -1;
    for (int a = 0; a < batch.num_actions; ++a) {
      if (algorithm == Algorithm::kBcql && !batch.in_batch.contains(s, a)) continue;
      if (best < 0 || Q(s, a) > Q(s, best) + 1e-12) best = a;
    }
    actions[static_cast<size_t>(s)] = best < 0 ? 0 : best;
  }
  return actions;
}

}  // namespace bcq::bcql
