// The study plan: cells, stable ids and seeds, dependencies, spec validation, folders that
// only take specs adding cells (study/spec.cpp, study/state.cpp).
#include <gtest/gtest.h>

#include <set>

#include "common/error.hpp"
#include "common/eval_csv.hpp"
#include "study/spec.hpp"
#include "study/state.hpp"
#include "tests/test_util.hpp"

namespace bcq::study {
namespace {

const Cell& by_key(const std::vector<Cell>& cells, const std::string& key) {
  for (const auto& c : cells)
    if (c.key() == key) return c;
  throw std::runtime_error("no cell " + key);
}

TEST(StudyPlan, PaperGridHasOneCollectionPerBatchAndOneRunPerAlgorithm) {
  const StudySpec spec = profile_spec("paper");
  const auto cells = plan_cells(spec);
  // 3 envs x 5 seeds x (3 collections + 4 kinds x 4 algorithms) = 15 x 19.
  EXPECT_EQ(cells.size(), 3u * 5u * 19u);
  int collections = 0;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    EXPECT_EQ(cells[i].id, static_cast<int>(i));
    collections += cells[i].type == CellType::collect;
  }
  EXPECT_EQ(collections, 45);
}

TEST(StudyPlan, DependenciesFollowTheBatchKinds) {
  const auto cells = plan_cells(profile_spec("quick"));
  const Cell& imitation = by_key(cells, "hopper/imitation/collect/s1");
  const Cell& imperfect = by_key(cells, "hopper/imperfect/collect/s1");
  EXPECT_TRUE(imitation.depends.empty());
  ASSERT_EQ(imperfect.depends.size(), 1u);
  EXPECT_EQ(imperfect.depends[0], imitation.id);  // it acts with the imitation expert
  EXPECT_EQ(by_key(cells, "hopper/imperfect/bcq/s1").depends, std::vector<int>{imperfect.id});
  EXPECT_EQ(by_key(cells, "hopper/final/vae-bc/s1").depends,
            std::vector<int>{by_key(cells, "hopper/final/collect/s1").id});
  EXPECT_TRUE(by_key(cells, "hopper/concurrent/ddpg/s1").depends.empty());
  for (const auto& c : cells)
    for (int d : c.depends) EXPECT_LT(d, c.id) << c.name();
}

TEST(StudyPlan, ImperfectAloneStillCollectsTheImitationExpert) {
  StudySpec spec = profile_spec("smoke");
  spec.kinds = {"imperfect"};
  const auto cells = plan_cells(spec);
  ASSERT_EQ(cells.size(), 2u + 4u);
  EXPECT_EQ(cells[0].key(), "inverted-pendulum/imitation/collect/s0");
  EXPECT_EQ(cells[1].key(), "inverted-pendulum/imperfect/collect/s0");
}

TEST(StudyPlan, NamesAndSeedsComeFromTheCellNotFromWhoRunsIt) {
  const auto a = plan_cells(profile_spec("quick"));
  const auto b = plan_cells(profile_spec("quick"));
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name(), b[i].name());
    EXPECT_EQ(a[i].seed, b[i].seed);
  }
  EXPECT_EQ(a[0].name(), "0-hopper-final-collect-s0");
  // Training runs of one batch share a seed (concurrent runs see the same behavioural data);
  // other batches and seed numbers get other seeds.
  EXPECT_EQ(by_key(a, "hopper/concurrent/bcq/s0").seed, by_key(a, "hopper/concurrent/bc/s0").seed);
  EXPECT_NE(by_key(a, "hopper/concurrent/bcq/s0").seed, by_key(a, "hopper/concurrent/bcq/s1").seed);
  EXPECT_NE(by_key(a, "hopper/final/bcq/s0").seed, by_key(a, "hopper/concurrent/bcq/s0").seed);
  std::set<uint64_t> collection_seeds;
  for (const auto& c : a)
    if (c.type == CellType::collect) collection_seeds.insert(c.seed);
  EXPECT_EQ(collection_seeds.size(), 9u);
  // A seed is the hash of the key, so the same cell in a bigger grid keeps it.
  StudySpec bigger = profile_spec("quick");
  bigger.seeds = {5, 0};
  EXPECT_EQ(by_key(plan_cells(bigger), "hopper/final/bcq/s0").seed, by_key(a, "hopper/final/bcq/s0").seed);
}

TEST(StudyPlan, ExtendingKeepsOldIdsAndNumbersNewCellsAfterThem) {
  StudySpec old_spec = profile_spec("smoke");
  const auto old_cells = plan_cells(old_spec);
  StudySpec spec = old_spec;
  spec.seeds = {0, 1};
  spec.algos = {"bcq", "ddpg", "bc", "vae-bc"};
  const auto cells = extend_cells(old_spec, old_cells, spec);
  ASSERT_EQ(cells.size(), 2 * old_cells.size());
  for (const auto& c : old_cells) {
    EXPECT_EQ(by_key(cells, c.key()).id, c.id);
    EXPECT_EQ(by_key(cells, c.key()).depends, c.depends);
  }
  for (std::size_t i = 0; i < cells.size(); ++i) EXPECT_EQ(cells[i].id, static_cast<int>(i));
  const Cell& bcq_s1 = by_key(cells, "inverted-pendulum/final/bcq/s1");
  EXPECT_GE(bcq_s1.id, static_cast<int>(old_cells.size()));
  EXPECT_EQ(bcq_s1.depends, std::vector<int>{by_key(cells, "inverted-pendulum/final/collect/s1").id});
}

TEST(StudyPlan, ASpecThatChangesOrDropsCellsIsRefusedNamingTheField) {
  const StudySpec old_spec = profile_spec("smoke");
  const auto old_cells = plan_cells(old_spec);
  StudySpec longer = old_spec;
  longer.iterations += 1;
  try {
    extend_cells(old_spec, old_cells, longer);
    FAIL() << "accepted another iteration count";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'iterations'"), std::string::npos) << e.what();
  }
  StudySpec fewer = old_spec;
  fewer.kinds = {"final"};
  EXPECT_THROW(extend_cells(old_spec, old_cells, fewer), InputError);
}

TEST(StudySpecFile, RoundTripsAndRefusesBadFields) {
  const StudySpec quick = profile_spec("quick");
  EXPECT_EQ(to_json(parse_spec(to_json(quick), "q.json")), to_json(quick));
  auto refused = [](nlohmann::json j, const std::string& needle) {
    try {
      parse_spec(j, "s.json");
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).rfind("s.json: ", 0), 0u) << e.what();
      return;
    }
    ADD_FAILURE() << "accepted " << j.dump();
  };
  nlohmann::json base = {{"format", "bcq-study/1"}};
  StudySpec defaults = parse_spec(base, "s.json");
  defaults.name = "paper";
  EXPECT_EQ(to_json(defaults), to_json(profile_spec("paper")));  // missing fields: the paper's
  refused({{"format", "bcq-study/2"}}, "format");
  refused({{"format", "bcq-study/1"}, {"iteration", 5}}, "unknown field 'iteration'");
  refused({{"format", "bcq-study/1"}, {"envs", {"hopper", "pong"}}}, "\"pong\"");
  refused({{"format", "bcq-study/1"}, {"algos", {"bcq", "bcq"}}}, "twice");
  refused({{"format", "bcq-study/1"}, {"seeds", nlohmann::json::array()}}, "seeds");
  refused({{"format", "bcq-study/1"}, {"seeds", {-1}}}, "seeds");
  refused({{"format", "bcq-study/1"}, {"iterations", 0}}, "iterations");
  refused({{"format", "bcq-study/1"}, {"iterations", 1.5}}, "iterations");
  refused({{"format", "bcq-study/1"}, {"threads", 100000}}, "threads");
  refused({{"format", "bcq-study/1"}, {"precision", "fp16"}}, "precision");
  EXPECT_THROW(profile_spec("huge"), InputError);
}

TEST(StudyFolder, AnotherSpecIsRefusedUnlessItOnlyAddsCells) {
  test::TempDir dir;
  const StudySpec smoke = profile_spec("smoke");
  const auto first = prepare_folder(dir.path(), smoke);
  EXPECT_EQ(first.size(), plan_cells(smoke).size());
  EXPECT_EQ(prepare_folder(dir.path(), smoke).size(), first.size());
  StudySpec other = smoke;
  other.eval_episodes = 3;
  EXPECT_THROW(prepare_folder(dir.path(), other), InputError);
  StudySpec more = smoke;
  more.seeds = {0, 7};
  const auto extended = prepare_folder(dir.path(), more);
  EXPECT_EQ(extended.size(), 2 * first.size());
  // The folder now holds the larger spec; the first one would drop cells.
  EXPECT_THROW(prepare_folder(dir.path(), smoke), InputError);
}

TEST(StudyFolder, ACellHeldByAnotherProcessIsRunningAndAnAbandonedOneIsPending) {
  test::TempDir dir;
  const StudySpec smoke = profile_spec("smoke");
  const auto cells = prepare_folder(dir.path(), smoke);
  std::filesystem::create_directories(cell_folder(dir.path(), cells[0]));
  write_cell_record(dir.path(), cells[0], CellState::running, "", 1.0, 0.0, 1);
  EXPECT_EQ(read_cell_status(dir.path(), cells[0]).state, CellState::pending);  // nobody holds it
  {
    FileLock lock(cell_lock_path(dir.path(), cells[0]), false);
    ASSERT_TRUE(lock.held());
    EXPECT_EQ(read_cell_status(dir.path(), cells[0]).state, CellState::running);
  }
  EXPECT_EQ(read_cell_status(dir.path(), cells[0]).state, CellState::pending);
  write_cell_record(dir.path(), cells[0], CellState::done, "", 2.0, 12.5, 1);
  const CellStatus st = read_cell_status(dir.path(), cells[0]);
  EXPECT_EQ(st.state, CellState::done);
  EXPECT_DOUBLE_EQ(st.behavioural_return, 12.5);
  EXPECT_EQ(st.attempts, 1);
}

TEST(StudyFolder, SummaryRowsCarryTheRunsNumbersAsWrittenAndWallTimeToATenth) {
  test::TempDir dir;
  const StudySpec smoke = profile_spec("smoke");
  const auto cells = prepare_folder(dir.path(), smoke);
  const Cell& collect = by_key(cells, "inverted-pendulum/final/collect/s0");
  const Cell& train = by_key(cells, "inverted-pendulum/final/bc/s0");
  for (const Cell* c : {&collect, &train}) std::filesystem::create_directories(cell_folder(dir.path(), *c));
  write_cell_record(dir.path(), collect, CellState::done, "", 3.0, 1234.5, 1);
  write_cell_record(dir.path(), train, CellState::done, "", 61.23456789, 1234.5, 1);
  // eval.csv holds 9 significant digits; summary.csv must not grow them into 17
  // (1234.4999999999998 is what precision(17) prints for 1234.5 - 2e-13).
  test::write_file(cell_folder(dir.path(), train) + "/eval.csv",
                   std::string(kEvalCsvHeader) + "\n0,10,0,0.1,0.2,1\n100,1234.50001,3,98.7654321,45.6,2\n");
  write_results(dir.path(), smoke, "smoke", cells, local_provenance(), 1, 1, 70.0);
  const std::string summary = test::read_file(dir.path() + "/summary.csv");
  EXPECT_NE(summary.find("\ninverted-pendulum,final,bc,0,fp32,100,1234.50001,1234.50001,1234.5,98.7654321,45.6,done,61.2\n"),
            std::string::npos)
      << summary;
}

TEST(StudyEstimate, QuickProfileIsSizedForAbout100MinutesOnTwoWorkers) {
  const StudySpec quick = profile_spec("quick");
  double total = 0;
  for (const auto& c : plan_cells(quick)) total += estimate_seconds(quick, c);
  EXPECT_GT(total / 2, 80 * 60.0);
  EXPECT_LT(total / 2, 120 * 60.0);
}

}  // namespace
}  // namespace bcq::study
