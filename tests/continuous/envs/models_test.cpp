// The MJCF models in continuous/envs/models: they load without warnings, their masses match
// the physical facts (computed here by hand from capsule volumes at 1000 kg/m^3), and model
// lookup / bad model files give clear errors.
#include <gtest/gtest.h>
#include <mujoco/mujoco.h>
#include <stdlib.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>

#include "common/error.hpp"
#include "continuous/envs/env.hpp"
#include "tests/continuous/envs/strict_fixture.hpp"

namespace bcq::envs {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDensity = 1000.0;

/// Mass of a capsule: a cylinder of `length` between the end centres plus a sphere.
double capsule_mass(double radius, double length) {
  return kDensity * (kPi * radius * radius * length + 4.0 / 3.0 * kPi * radius * radius * radius);
}

struct ModelDeleter {
  void operator()(mjModel* m) const { mj_deleteModel(m); }
};

/// Loads a model straight through MuJoCo (not through Env), failing on any message.
std::unique_ptr<mjModel, ModelDeleter> load_raw(const std::string& name) {
  std::array<char, 1024> error{};
  std::unique_ptr<mjModel, ModelDeleter> model(
      mj_loadXML(model_path(name).c_str(), nullptr, error.data(), error.size()));
  EXPECT_TRUE(model) << error.data();
  EXPECT_STREQ(error.data(), "") << "compiler message for " << name;
  return model;
}

double body_mass(const mjModel* m, const char* body) {
  const int id = mj_name2id(m, mjOBJ_BODY, body);
  EXPECT_GE(id, 0) << body;
  return id >= 0 ? m->body_mass[id] : 0.0;
}

class ModelsTest : public testing::StrictMujocoTest {};

TEST_F(ModelsTest, AllModelsLoadWithoutWarnings) {
  for (const auto& name : env_names()) {
    SCOPED_TRACE(name);
    load_raw(name);
    Env& env = make_strict(name);
    EXPECT_TRUE(env.warnings().empty());
  }
}

TEST_F(ModelsTest, HopperMassesFromCapsules) {
  const auto model = load_raw("hopper");
  ASSERT_TRUE(model);
  const double torso = capsule_mass(0.05, 1.45 - 1.05);
  const double thigh = capsule_mass(0.05, 1.05 - 0.6);
  const double leg = capsule_mass(0.04, 0.6 - 0.1);
  const double foot = capsule_mass(0.06, 0.26 + 0.13);
  EXPECT_NEAR(body_mass(model.get(), "torso"), torso, 1e-9);
  EXPECT_NEAR(body_mass(model.get(), "thigh"), thigh, 1e-9);
  EXPECT_NEAR(body_mass(model.get(), "leg"), leg, 1e-9);
  EXPECT_NEAR(body_mass(model.get(), "foot"), foot, 1e-9);
  // 3.665 + 4.058 + 2.781 + 5.316 = 15.82 kg ("about 15.8 kg" in the issue).
  EXPECT_NEAR(torso + thigh + leg + foot, 15.82, 0.005);
  EXPECT_NEAR(make_strict("hopper").total_mass(), torso + thigh + leg + foot, 1e-9);
}

TEST_F(ModelsTest, Walker2dMassesFromCapsules) {
  const double torso = capsule_mass(0.05, 0.4);
  const double leg_chain = capsule_mass(0.05, 0.45) + capsule_mass(0.04, 0.5) + capsule_mass(0.06, 0.2);
  // 3.665 + 2 * (4.058 + 2.781 + 3.167) = 23.68 kg.
  EXPECT_NEAR(torso + 2 * leg_chain, 23.68, 0.005);
  EXPECT_NEAR(make_strict("walker2d").total_mass(), torso + 2 * leg_chain, 1e-9);
  const auto model = load_raw("walker2d");
  ASSERT_TRUE(model);
  EXPECT_NEAR(body_mass(model.get(), "foot"), capsule_mass(0.06, 0.2), 1e-9);
  EXPECT_NEAR(body_mass(model.get(), "foot_left"), capsule_mass(0.06, 0.2), 1e-9);
}

TEST_F(ModelsTest, HalfCheetahIsFourteenKilograms) {
  EXPECT_NEAR(make_strict("halfcheetah").total_mass(), 14.0, 1e-9);
  // settotalmass rescales the density-1000 masses; the ratio of two equal-radius capsules
  // must survive: bthigh (half-length 0.145) over bshin (0.15).
  const auto model = load_raw("halfcheetah");
  ASSERT_TRUE(model);
  const double ratio = capsule_mass(0.046, 0.29) / capsule_mass(0.046, 0.30);
  EXPECT_NEAR(body_mass(model.get(), "bthigh") / body_mass(model.get(), "bshin"), ratio, 1e-9);
}

TEST_F(ModelsTest, InvertedPendulumMassFromCapsules) {
  // Cart: radius 0.1, half-length 0.1. Pole: radius 0.049 from (0,0,0) to (0.001,0,0.6).
  const double cart = capsule_mass(0.1, 0.2);
  const double pole = capsule_mass(0.049, std::sqrt(0.001 * 0.001 + 0.6 * 0.6));
  EXPECT_NEAR(make_strict("inverted-pendulum").total_mass(), cart + pole, 1e-9);
}

TEST_F(ModelsTest, HopperJointFactsMatchTheIssue) {
  const auto model = load_raw("hopper");
  ASSERT_TRUE(model);
  const mjModel* m = model.get();
  const double deg = kPi / 180.0;
  struct Hinge { const char* name; double low, high; };
  for (const Hinge& h : {Hinge{"thigh_joint", -150 * deg, 0}, Hinge{"leg_joint", -150 * deg, 0},
                         Hinge{"foot_joint", -45 * deg, 45 * deg}}) {
    const int j = mj_name2id(m, mjOBJ_JOINT, h.name);
    ASSERT_GE(j, 0) << h.name;
    EXPECT_NEAR(m->jnt_range[2 * j], h.low, 1e-12) << h.name;
    EXPECT_NEAR(m->jnt_range[2 * j + 1], h.high, 1e-12) << h.name;
    EXPECT_EQ(m->dof_armature[m->jnt_dofadr[j]], 1.0);
    EXPECT_EQ(m->dof_damping[m->jnt_dofadr[j]], 1.0);
  }
  for (int i = 0; i < m->nu; ++i) EXPECT_EQ(m->actuator_gear[6 * i], 200.0);
  EXPECT_EQ(m->opt.timestep, 0.002);
  EXPECT_EQ(m->opt.integrator, mjINT_RK4);
  EXPECT_EQ(m->geom_friction[3 * mj_name2id(m, mjOBJ_GEOM, "foot_geom")], 2.0);
  EXPECT_EQ(m->geom_friction[3 * mj_name2id(m, mjOBJ_GEOM, "torso_geom")], 0.9);
}

TEST_F(ModelsTest, HalfCheetahJointFactsMatchTheIssue) {
  const auto model = load_raw("halfcheetah");
  ASSERT_TRUE(model);
  const mjModel* m = model.get();
  struct Joint { const char* name; double low, high, stiffness, damping, gear; };
  const Joint joints[] = {{"bthigh", -0.52, 1.05, 240, 6, 120}, {"bshin", -0.785, 0.785, 180, 4.5, 90},
                          {"bfoot", -0.4, 0.785, 120, 3, 60},   {"fthigh", -1, 0.7, 180, 4.5, 120},
                          {"fshin", -1.2, 0.87, 120, 3, 60},    {"ffoot", -0.5, 0.5, 60, 1.5, 30}};
  for (const Joint& jt : joints) {
    const int j = mj_name2id(m, mjOBJ_JOINT, jt.name);
    ASSERT_GE(j, 0) << jt.name;
    EXPECT_EQ(m->jnt_range[2 * j], jt.low) << jt.name;
    EXPECT_EQ(m->jnt_range[2 * j + 1], jt.high) << jt.name;
    EXPECT_EQ(m->jnt_stiffness[j], jt.stiffness) << jt.name;
    EXPECT_EQ(m->dof_damping[m->jnt_dofadr[j]], jt.damping) << jt.name;
    EXPECT_EQ(m->dof_armature[m->jnt_dofadr[j]], 0.1) << jt.name;
    const int a = mj_name2id(m, mjOBJ_ACTUATOR, jt.name);
    ASSERT_GE(a, 0) << jt.name;
    EXPECT_EQ(m->actuator_gear[6 * a], jt.gear) << jt.name;
  }
  EXPECT_EQ(m->opt.timestep, 0.01);
}

// --- model lookup and bad files ---------------------------------------------------------

/// A fresh directory under the test's temp dir, removed afterwards.
class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("bcq_envs_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

/// Sets BCQ_MODEL_DIR for one scope.
class ScopedModelDir {
 public:
  explicit ScopedModelDir(const std::string& dir) {
    if (const char* old = std::getenv("BCQ_MODEL_DIR")) old_ = old, had_old_ = true;
    ::setenv("BCQ_MODEL_DIR", dir.c_str(), 1);
  }
  ~ScopedModelDir() {
    if (had_old_) {
      ::setenv("BCQ_MODEL_DIR", old_.c_str(), 1);
    } else {
      ::unsetenv("BCQ_MODEL_DIR");
    }
  }

 private:
  std::string old_;
  bool had_old_ = false;
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

TEST(ModelLookup, UnknownNameListsKnownOnes) {
  const std::string message = error_of([] { make_env("ant"); });
  EXPECT_NE(message.find("'ant'"), std::string::npos) << message;
  EXPECT_NE(message.find("hopper, walker2d, halfcheetah, inverted-pendulum"), std::string::npos);
}

TEST(ModelLookup, ModelDirEnvironmentVariableComesFirst) {
  TempDir dir;
  std::filesystem::copy_file(model_path("inverted-pendulum"), dir.path() / "inverted_pendulum.xml");
  ScopedModelDir scoped(dir.path().string());
  EXPECT_EQ(model_path("inverted-pendulum"), (dir.path() / "inverted_pendulum.xml").string());
  EXPECT_EQ(model_search_dirs().front(), dir.path().string());
  // A file missing there is found in the next place (the build tree).
  EXPECT_NE(model_path("hopper").find("hopper.xml"), std::string::npos);
  EXPECT_NE(model_path("hopper"), (dir.path() / "hopper.xml").string());
}

TEST(ModelLookup, MissingFileIsAnInputErrorNamingThePath) {
  const std::string message =
      error_of([] { make_env_from_file("hopper", "/nonexistent/dir/hopper.xml"); });
  EXPECT_NE(message.find("/nonexistent/dir/hopper.xml"), std::string::npos) << message;
  EXPECT_NE(message.find("not found"), std::string::npos) << message;
}

TEST(ModelLookup, InvalidXmlIsAnInputErrorNamingTheFile) {
  TempDir dir;
  const auto file = dir.path() / "hopper.xml";
  std::ofstream(file) << "<mujoco><worldbody><body><geom type=\"capsule\" size=\"oops\"/>";
  const std::string message = error_of([&] { make_env_from_file("hopper", file.string()); });
  EXPECT_NE(message.find("invalid model file " + file.string()), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << "one line";
  // The same through the registry when BCQ_MODEL_DIR points at the broken file.
  ScopedModelDir scoped(dir.path().string());
  EXPECT_NE(error_of([] { make_env("hopper"); }).find("invalid model file"), std::string::npos);
}

TEST(ModelLookup, ModelOfTheWrongShapeIsRefused) {
  const std::string message =
      error_of([] { make_env_from_file("hopper", model_path("inverted-pendulum")); });
  EXPECT_NE(message.find("does not fit environment 'hopper'"), std::string::npos) << message;
}

}  // namespace
}  // namespace bcq::envs
