// A fixture that fails a test on any MuJoCo warning (after MuJoCo's test/fixture.h): it
// installs its own mju_user_warning hook for the test's duration and also checks that the
// environments it made recorded no warnings.
#pragma once

#include <gtest/gtest.h>
#include <mujoco/mujoco.h>

#include <string>
#include <vector>

#include "continuous/envs/env.hpp"

namespace bcq::envs::testing {

inline std::vector<std::string>& captured_mujoco_warnings() {
  static std::vector<std::string> messages;
  return messages;
}

class StrictMujocoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    captured_mujoco_warnings().clear();
    previous_ = mju_user_warning;
    mju_user_warning = [](const char* message) { captured_mujoco_warnings().emplace_back(message); };
  }
  void TearDown() override {
    mju_user_warning = previous_;
    for (const auto& message : captured_mujoco_warnings()) ADD_FAILURE() << "MuJoCo warning: " << message;
    for (const auto& env : envs_) {
      for (const auto& message : env->warnings()) {
        ADD_FAILURE() << env->name() << " recorded a warning: " << message;
      }
    }
  }
  /// Makes a registered environment in strict mode (a warning during step() throws); the
  /// fixture owns it and checks at teardown that it recorded no warning.
  Env& make_strict(const std::string& name) {
    envs_.push_back(make_env(name));
    envs_.back()->set_strict_warnings(true);
    return *envs_.back();
  }

 private:
  void (*previous_)(const char*) = nullptr;
  std::vector<std::unique_ptr<Env>> envs_;
};

}  // namespace bcq::envs::testing
