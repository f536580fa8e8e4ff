// main() of the upstream unit tests (`bash .ci/upstream`): TFLite's own
// tensorflow/lite/kernels/test_main.cc without Google Benchmark (not pinned; the tests register
// no benchmark): delegate-provider flags first, then googletest's.
#include <cstdlib>

#include <gtest/gtest.h>
#include "tensorflow/lite/kernels/test_delegate_providers.h"
#include "tensorflow/lite/testing/util.h"

int main(int argc, char** argv) {
  ::tflite::LogToStderr();
  if (!tflite::KernelTestDelegateProviders::Get()->InitFromCmdlineArgs(
          &argc, const_cast<const char**>(argv))) {
    return EXIT_FAILURE;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
