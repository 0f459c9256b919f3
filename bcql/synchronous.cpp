#include "bcql/synchronous.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include "bcql/detail/work_table.hpp"
#include "common/error.hpp"

namespace bcq::bcql {

SynchronousResult run_synchronous(const PreparedBatch& batch, const SynchronousOptions& options) {
  if (!(options.tolerance > 0.0)) throw InputError("synchronous tolerance must be > 0");
  if (options.max_sweeps < 1) throw InputError("max_sweeps must be >= 1");
  const QTable q_init = detail::resolve_q_init(batch, options.q_init, options.q_init_table);
  std::vector<double> T = detail::make_work_table(batch, options.algorithm, q_init,
                                                  options.test_unconstrained_max);
  std::vector<double> next(T);
  const double gamma = batch.gamma;
  // Contraction with modulus gamma in the sup norm: ||Q_{k+1} - Q*|| <= gamma/(1-gamma)
  // ||Q_{k+1} - Q_k||.
  const double factor = gamma / (1.0 - gamma);
  SynchronousResult result;
  result.error_bound = std::numeric_limits<double>::infinity();
  for (int k = 0; k < options.max_sweeps; ++k) {
    const double change = detail::sweep(batch, T, next);
    T.swap(next);
    ++result.sweeps;
    result.error_bound = factor * change;
    if (result.error_bound <= options.tolerance) {
      result.converged = true;
      break;
    }
    // `next` holds the previous iterate; masked / unseen entries are equal in both.
  }
  result.Q = detail::from_work_table(T, q_init);
  return result;
}

SynchronousResult run_synchronous(const FiniteMdp& mdp, const Batch& batch,
                                  const SynchronousOptions& options) {
  return run_synchronous(prepare_batch(mdp, batch), options);
}

QTable apply_operator(const PreparedBatch& batch, Algorithm algorithm, const QTable& Q,
                      const QTable& q_init, bool test_unconstrained_max) {
  if (Q.num_states != batch.num_states || Q.num_actions != batch.num_actions)
    throw InputError("apply_operator: Q table shape does not match the batch's MDP");
  const QTable init = detail::resolve_q_init(batch, 0.0, q_init);
  std::vector<double> T = detail::make_work_table(batch, algorithm, Q, test_unconstrained_max);
  std::vector<double> out(T);
  detail::sweep(batch, T, out);
  // Pairs outside B are fixed at Q_init by the operator (M_B sends them to s_init).
  QTable result = detail::from_work_table(out, init);
  for (int s = 0; s < batch.num_states; ++s)
    for (int a = 0; a < batch.num_actions; ++a)
      if (!batch.counts.contains(s, a)) result.at(s, a) = init(s, a);
  return result;
}

}  // namespace bcq::bcql
