// RapidCheck generators of the verification suite. Everything is drawn as integers (sizes,
// ids, weights, rewards, steps), then decoded by cases.hpp, so shrinking gives small cases:
// fewer states and actions, shorter batches, ids and rewards toward 0.
#pragma once

#include <rapidcheck.h>

#include "proofs_checks/cases.hpp"

namespace bcq::proofs {

enum class Determinism { kAny, kDeterministic, kStochastic };

/// MDP choices: 1-8 states, 1-4 actions, 0..S-1 terminal states, gamma from kGammas.
/// RapidCheck grows the "size" of generated values with the number of passed cases, and
/// inRange draws near its lower end at small sizes (1 state, weight 0: deterministic). The suite
/// wants the whole range from the first case, so its generators draw at full size; shrinking is
/// unaffected.
template <typename T>
rc::Gen<T> full_size(rc::Gen<T> gen) {
  return rc::gen::resize(rc::kNominalSize, std::move(gen));
}

/// Integers in [-bound, bound] that shrink toward 0 (inRange shrinks toward its lower end):
/// 0, 1, -1, 2, -2, ...
inline rc::Gen<int> small_signed(int bound) {
  return rc::gen::map(rc::gen::inRange(0, 2 * bound + 1), [](int x) { return x % 2 ? (x + 1) / 2 : -(x / 2); });
}

/// Largest case: 8 states, 4 actions, 3 successor slots per (s,a).
inline constexpr size_t kMaxPairs = 8 * 4;

/// MDP choices: 1-8 states, 1-4 actions, 0..S-1 terminal states, gamma from kGammas. The
/// vectors always have room for the largest MDP, so every field shrinks on its own (a smaller
/// S or A just reads fewer entries).
inline rc::Gen<MdpChoices> gen_mdp_choices(Determinism determinism) {
  rc::Gen<bool> stochastic = determinism == Determinism::kAny ? rc::gen::arbitrary<bool>()
                                                               : rc::gen::just(determinism == Determinism::kStochastic);
  const size_t n = 3 * kMaxPairs;
  return full_size(rc::gen::build<MdpChoices>(
      rc::gen::set(&MdpChoices::num_states, rc::gen::inRange(1, 9)),
      rc::gen::set(&MdpChoices::num_actions, rc::gen::inRange(1, 5)),
      rc::gen::set(&MdpChoices::stochastic, stochastic),
      rc::gen::set(&MdpChoices::gamma_index, rc::gen::inRange(0, 4)),
      rc::gen::set(&MdpChoices::num_terminal, rc::gen::inRange(0, 8)),
      rc::gen::set(&MdpChoices::next, rc::gen::container<std::vector<int>>(n, rc::gen::inRange(0, 8))),
      rc::gen::set(&MdpChoices::weight, rc::gen::container<std::vector<int>>(n, rc::gen::inRange(0, 4))),
      rc::gen::set(&MdpChoices::reward, rc::gen::container<std::vector<int>>(n, small_signed(4)))));
}

enum class BatchKind {
  kAny,                  ///< trajectories (closed or not) or independent pairs
  kCoherentTrajectories, ///< trajectories from s_0, closed: coherent with s_0 in B
  kOpenTrajectories,     ///< trajectories from s_0, not closed: often incoherent
  kPairs,                ///< independent pairs with partial, exact or skewed coverage
};

inline rc::Gen<BatchChoices> gen_batch_choices(BatchKind kind) {
  const size_t pairs = kMaxPairs;
  rc::Gen<bool> trajectories = kind == BatchKind::kAny ? rc::gen::arbitrary<bool>() : rc::gen::just(kind != BatchKind::kPairs);
  rc::Gen<bool> close = kind == BatchKind::kAny ? rc::gen::arbitrary<bool>()
                                                : rc::gen::just(kind == BatchKind::kCoherentTrajectories);
  return full_size(rc::gen::build<BatchChoices>(
      rc::gen::set(&BatchChoices::trajectories, trajectories),
      rc::gen::set(&BatchChoices::steps,
                   rc::gen::mapcat(rc::gen::inRange(1, 25), [](int len) {
                     return rc::gen::container<std::vector<int>>(static_cast<size_t>(len), rc::gen::inRange(0, 12));
                   })),
      rc::gen::set(&BatchChoices::close, close),
      rc::gen::set(&BatchChoices::coverage, rc::gen::container<std::vector<int>>(pairs, rc::gen::inRange(0, 3))),
      rc::gen::set(&BatchChoices::counts, rc::gen::container<std::vector<int>>(3 * pairs, rc::gen::inRange(0, 3)))));
}

inline rc::Gen<PolicyChoices> gen_policy_choices(rc::Gen<bool> batch_constrained) {
  const size_t pairs = kMaxPairs;
  return full_size(rc::gen::build<PolicyChoices>(
      rc::gen::set(&PolicyChoices::weight, rc::gen::container<std::vector<int>>(pairs, rc::gen::inRange(0, 4))),
      rc::gen::set(&PolicyChoices::batch_constrained, batch_constrained)));
}

}  // namespace bcq::proofs
