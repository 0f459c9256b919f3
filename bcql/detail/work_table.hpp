// Internal to bcql/: the "work table" T that both the sampled and the synchronous forms update.
// T(s,a) = Q(s,a), except that for BCQL the pairs a' outside {a' : (s',a') in B} of a state in
// B hold -inf, so that max_{a'} T(s',a') over the whole row IS the batch-constrained max of
// Eq. 6, and terminal rows hold 0. Q-learning (Eq. 2) and BCQL then share one inner loop.
// Pairs outside B are never updated (no sample starts there), so the mask never moves.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "bcql/prepared_batch.hpp"
#include "bcql/sampled.hpp"

namespace bcq::bcql::detail {

/// Q_init as a full S x A table over the batch's MDP (terminal rows 0); see resolve_q_init.
QTable resolve_q_init(const PreparedBatch& batch, double fill, const QTable& table);

inline std::vector<double> make_work_table(const PreparedBatch& batch, Algorithm algorithm,
                                           const QTable& Q, bool test_unconstrained_max) {
  const int S = batch.num_states;
  const int A = batch.num_actions;
  std::vector<double> T(Q.values);
  const bool constrained = algorithm == Algorithm::kBcql && !test_unconstrained_max;
  for (int s = 0; s < S; ++s) {
    double* row = T.data() + static_cast<size_t>(s) * static_cast<size_t>(A);
    if (batch.terminal[static_cast<size_t>(s)]) {
      for (int a = 0; a < A; ++a) row[a] = 0.0;
      continue;
    }
    if (!constrained) continue;
    // allowed(s) = in-batch actions when s is in B, all actions otherwise.
    for (int a = 0; a < A; ++a)
      if (!batch.in_batch.contains(s, a)) row[a] = -std::numeric_limits<double>::infinity();
  }
  return T;
}

/// Q from T: masked entries return to q_init (they are the untouched pairs outside B).
inline QTable from_work_table(const std::vector<double>& T, const QTable& q_init) {
  QTable Q = q_init;
  for (size_t i = 0; i < T.size(); ++i)
    if (!std::isinf(T[i])) Q.values[i] = T[i];
  return Q;
}

inline double row_max(const double* row, int A) {
  double m = row[0];
  for (int a = 1; a < A; ++a) m = row[a] > m ? row[a] : m;
  return m;
}

/// One synchronous (Jacobi) sweep over the seen pairs: out(s,a) = sum_s' p_B (r_B + gamma
/// max T(s',.)) (Eq. 2 / Eq. 6 in expectation). `out` must start as a copy of T. Returns
/// max |out - T| over the seen pairs.
inline double sweep(const PreparedBatch& batch, const std::vector<double>& T,
                    std::vector<double>& out) {
  const EmpiricalModel& m = batch.model;
  const int A = batch.num_actions;
  const double gamma = batch.gamma;
  double change = 0.0;
  for (size_t k = 0; k < m.pair_sa.size(); ++k) {
    double q = 0.0;
    for (int32_t j = m.pair_offsets[k]; j < m.pair_offsets[k + 1]; ++j) {
      const size_t j_ = static_cast<size_t>(j);
      const double* row = T.data() + static_cast<size_t>(m.next[j_]) * static_cast<size_t>(A);
      q += m.prob[j_] * (m.reward[j_] + gamma * row_max(row, A));
    }
    const size_t sa = static_cast<size_t>(m.pair_sa[k]);
    change = std::max(change, std::fabs(q - T[sa]));
    out[sa] = q;
  }
  return change;
}

}  // namespace bcq::bcql::detail
